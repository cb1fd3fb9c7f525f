package reconciliation

import (
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// heapPeak samples the live heap every 10ms until stop is called and
// returns the largest value seen.
func heapPeak() (stop func() uint64) {
	var peak uint64
	var wg sync.WaitGroup
	quit := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(quit); wg.Wait(); return peak }
}

// BenchmarkReconcileReport1M is the operator's path for one file: a
// 1,000,000-line transaction details report, generated on the fly through
// a pipe (never held whole), hashed and matched line by line against the
// index. No line matches, the worst case: every line is a NotInCluster
// discrepancy, counted, and the first MaxListed kept. Reports lines/s and
// the peak live heap.
func BenchmarkReconcileReport1M(b *testing.B) {
	const n = 1_000_000
	ix := newIndex()
	var peak uint64
	lines := 0
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(settlement.WriteSynthetic(pw, n)) }()
		stop := heapPeak()
		fr, err := ix.ReadFile(pr, "transactionItems_20260105_000.csv", settlement.TransactionDetails, theDay)
		peak = max(peak, stop())
		if err != nil {
			b.Fatal(err)
		}
		if fr.Lines != n || fr.Counts["NotInCluster"] != n || len(fr.Discrepancies) != MaxListed {
			b.Fatalf("lines %d, counts %v, listed %d", fr.Lines, fr.Counts, len(fr.Discrepancies))
		}
		lines += fr.Lines
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
