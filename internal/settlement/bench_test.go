package settlement

import (
	"io"
	"testing"
)

// BenchmarkTransactionReport1M streams a 1,000,000-line transaction details
// report, generated on the fly through a pipe (never held whole), through
// the Reader, and reports lines/s and the peak live heap.
func BenchmarkTransactionReport1M(b *testing.B) {
	const n = 1_000_000
	var peak uint64
	var lines int
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(WriteSynthetic(pw, n)) }()
		st, err := ReadStats(pr, TransactionDetails, 50_000)
		if err != nil {
			b.Fatal(err)
		}
		if st.Lines != n {
			b.Fatalf("read %d lines, want %d", st.Lines, n)
		}
		lines += st.Lines
		peak = max(peak, st.PeakHeap)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func TestSyntheticReadsBack(t *testing.T) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteSynthetic(pw, 1000)) }()
	st, err := ReadStats(pr, TransactionDetails, 100)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 1000 || st.Totals["HKD"] == 0 {
		t.Fatalf("%+v", st)
	}
}
