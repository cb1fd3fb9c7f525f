package settlement

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

// WriteSynthetic writes a transaction details report of n lines to w, made
// up on the fly (payments and refunds in HKD settled in USD), for
// benchmarks: nothing is held in memory but the line being written.
func WriteSynthetic(w io.Writer, n int) error {
	wr, err := NewWriter(w, TransactionDetails)
	if err != nil {
		return err
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, Zone)
	for i := 0; i < n; i++ {
		minor := int64(100 + i%500000)
		amt, err := money.SignedMinor("HKD", minor)
		if err != nil {
			return err
		}
		set, _ := money.SignedMinor("USD", minor*100/781)
		fee, _ := money.SignedMinor("USD", -(minor*100/781)*3/100)
		l := Line{CustomerID: "SANDBOX_BENCH", Acquirer: "Alipay_SG", TransactionID: "2026010511" + strconv.FormatInt(int64(i), 10),
			TransactionRequestID: "order-" + strconv.Itoa(i), PaymentMethodType: "ALIPAY_HK", TransactionType: TypePayment,
			TransactionTime: start.Add(time.Duration(i) * 80 * time.Millisecond), TransactionAmount: amt,
			SettlementAmount: set, QuoteCurrencyPair: "USD/HKD", QuotePrice: "7.81", Fee: fee}
		if i%10 == 9 {
			l.TransactionType, l.OriginalTransactionID = TypeRefund, "2026010511"+strconv.Itoa(i-1)
			l.SettlementAmount, l.Fee = set.Neg(), fee.Neg()
		}
		if err := wr.Write(&l); err != nil {
			return err
		}
	}
	return wr.Close()
}

// StreamStats are what ReadStats measured.
type StreamStats struct {
	Lines    int
	Duration time.Duration
	// PeakHeap is the largest live heap seen while reading, in bytes.
	PeakHeap uint64
	// Totals per transaction currency, in minor units (a check that every
	// line was parsed).
	Totals map[string]int64
}

// LinesPerSecond is Lines / Duration.
func (s StreamStats) LinesPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Lines) / s.Duration.Seconds()
}

// ReadStats reads a details report of kind k from r to the end, sampling
// the live heap every sampleEvery lines (0: never), and sums the amounts.
func ReadStats(r io.Reader, k Kind, sampleEvery int) (StreamStats, error) {
	st := StreamStats{Totals: map[string]int64{}}
	var ms runtime.MemStats
	sample := func() {
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > st.PeakHeap {
			st.PeakHeap = ms.HeapAlloc
		}
	}
	t0 := time.Now()
	rd, err := NewReader(r, k)
	if err != nil {
		return st, err
	}
	for {
		l, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("after %d lines: %w", st.Lines, err)
		}
		st.Lines++
		st.Totals[l.TransactionAmount.Currency()] += l.TransactionAmount.Minor()
		if sampleEvery > 0 && st.Lines%sampleEvery == 0 {
			sample()
		}
	}
	st.Duration = time.Since(t0)
	if sampleEvery > 0 {
		sample()
	}
	return st, nil
}
