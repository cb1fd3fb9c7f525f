package settlement

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

func signed(t testing.TB, cur, v string) money.Signed {
	t.Helper()
	s, err := money.ParseSignedMajor(cur, v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleLine(t testing.TB) Line {
	return Line{CustomerID: "SANDBOX_1", Acquirer: "Alipay_SG", TransactionID: "2026010511000000000000001",
		TransactionRequestID: "shop-order-1", PaymentMethodType: "ALIPAY_HK", TransactionType: TypePayment,
		TransactionTime:   time.Date(2026, 1, 5, 10, 0, 0, 0, Zone),
		TransactionAmount: signed(t, "HKD", "88.00"), SettlementAmount: signed(t, "USD", "11.27"),
		QuoteCurrencyPair: "USD/HKD", QuotePrice: "7.8100", Fee: signed(t, "USD", "-0.34")}
}

func TestRoundTrip(t *testing.T) {
	for _, k := range []Kind{TransactionDetails, SettlementDetails} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, k)
		if err != nil {
			t.Fatal(err)
		}
		want := sampleLine(t)
		if k == SettlementDetails {
			want.SettlementBatchID = "2026010600000001"
		}
		refund := want
		refund.TransactionType, refund.TransactionID, refund.OriginalTransactionID = TypeRefund, "R1", want.TransactionID
		refund.SettlementAmount, refund.Fee = signed(t, "USD", "-5.00"), money.Signed{}
		for _, l := range []*Line{&want, &refund} {
			if err := w.Write(l); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(buf.String(), "\n<END>\n") {
			t.Fatalf("%s: no <END> line:\n%s", k, buf.String())
		}
		r, err := NewReader(&buf, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, exp := range []Line{want, refund} {
			got, err := r.Read()
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if !got.TransactionTime.Equal(exp.TransactionTime) {
				t.Fatalf("%s: time %v, want %v", k, got.TransactionTime, exp.TransactionTime)
			}
			got.TransactionTime = exp.TransactionTime
			if got != exp {
				t.Fatalf("%s: read\n%+v\nwant\n%+v", k, got, exp)
			}
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("%s: after the last line: %v, want EOF", k, err)
		}
		if r.Records() != 2 {
			t.Fatalf("%s: %d records", k, r.Records())
		}
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, SettlementSummary)
	want := SummaryLine{SettlementBatchID: "B1", CustomerID: "C", Acquirer: "Alipay_SG", SummaryType: SummaryTotal,
		SettlementTime: time.Date(2026, 1, 6, 10, 0, 0, 0, Zone), Count: 2,
		SettlementAmount: signed(t, "USD", "7.25"), Fee: signed(t, "USD", "-0.25")}
	if err := w.WriteSummary(&want); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	r, err := NewReader(&buf, SettlementSummary)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadSummary()
	if err != nil {
		t.Fatal(err)
	}
	got.SettlementTime = want.SettlementTime
	if got != want {
		t.Fatalf("read %+v, want %+v", got, want)
	}
	if _, err := r.ReadSummary(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestReaderRefuses(t *testing.T) {
	head := strings.Join(Columns(TransactionDetails), ",")
	row := "C,A,,,,T1,,R1,,ALIPAY_HK,PAYMENT,2026-01-05T10:00:00+08:00,88.00,HKD,88.00,HKD,,,-1.50,HKD"
	for _, tc := range []struct {
		name, text string
		want       string
		truncated  bool
	}{
		{"empty file", "", "empty", true},
		{"header only", head + "\n", "after 0 records", true},
		{"no END", head + "\n" + row + "\n", "after 1 records", true},
		{"cut mid-line", head + "\n" + row[:30], "", true},
		{"missing column", "customerId,transactionId\n<END>\n", "lacks mandatory column(s) transactionType", false},
		{"after END", head + "\n<END>\n" + row + "\n", "follows the <END> line", false},
		{"short row", head + "\nC,A\n<END>\n", "has 2 fields, the header has 20", false},
		{"float amount", head + "\n" + strings.Replace(row, "88.00,HKD,88", "8.8e1,HKD,88", 1) + "\n<END>\n", "transactionAmountValue", false},
		{"too precise", head + "\n" + strings.Replace(row, "88.00,HKD,88", "88.001,HKD,88", 1) + "\n<END>\n", "decimal", false},
		{"no currency", head + "\n" + strings.Replace(row, "-1.50,HKD", "-1.50,", 1) + "\n<END>\n", "has no currency", false},
		{"bad time", head + "\n" + strings.Replace(row, "2026-01-05T10:00:00+08:00", "2026-01-05 10:00", 1) + "\n<END>\n", "ISO 8601", false},
		{"duplicate column", "transactionId,transactionId\n<END>\n", "appears twice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(strings.NewReader(tc.text), TransactionDetails)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrTruncated) != tc.truncated {
				t.Fatalf("truncated=%v, want %v: %v", errors.Is(err, ErrTruncated), tc.truncated, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
	// Extra, unknown columns and a BOM are fine; blank lines after END too.
	ok := "\ufeff" + head + ",newColumn\n" + row + ",x\n<END>\n\n"
	if err := readAll(strings.NewReader(ok), TransactionDetails); err != nil {
		t.Fatal(err)
	}
}

func readAll(r io.Reader, k Kind) error {
	rd, err := NewReader(r, k)
	if err != nil {
		return err
	}
	for {
		if _, err := rd.Read(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func TestPaths(t *testing.T) {
	d := DayOf(time.Date(2026, 1, 5, 17, 0, 0, 0, time.UTC)) // 01:00 on the 6th at UTC+8
	if d != "20260106" {
		t.Fatalf("day %s", d)
	}
	if got := Dir("", "C1", d); got != "/v1/settlements/C1/20260106/" {
		t.Fatal(got)
	}
	if got := Root("", "C1"); got != "/v1/settlements/C1/" {
		t.Fatal(got)
	}
	for name, k := range map[string]Kind{
		TransactionFileName(d, 0):                                  TransactionDetails,
		SettlementFileName(SettlementDetails, "USD", "B1", 0):      SettlementDetails,
		SettlementFileName(SettlementSummary, "USD", "B1", 1):      SettlementSummary,
		"settlementItems_KaKaoPay_USD_2018122611021040123_000.csv": SettlementDetails,
		"accountActivity_20260106_000.csv":                         "",
		"transactionItems_20260106_000.xlsx":                       "",
	} {
		if KindOf(name) != k {
			t.Errorf("KindOf(%s) = %q, want %q", name, KindOf(name), k)
		}
	}
	if d.AddDays(-6) != "20251231" {
		t.Fatal(d.AddDays(-6))
	}
	if _, err := ParseDay("2026-01-06"); err == nil {
		t.Fatal("accepted a dashed day")
	}
}
