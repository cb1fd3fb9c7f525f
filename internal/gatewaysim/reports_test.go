package gatewaysim

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

func readReport(t *testing.T, src *settlement.Source, p string, k settlement.Kind) ([]settlement.Line, error) {
	t.Helper()
	f, err := src.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := settlement.NewReader(f, k)
	if err != nil {
		return nil, err
	}
	var out []settlement.Line
	for {
		l, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
}

func TestReportsOverSFTP(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Reports.SFTPAddr = "127.0.0.1:0" })
	if err := e.sim.SetSFTPUser(testClientID, "merchant1", "s3cret"); err != nil {
		t.Fatal(err)
	}
	addr, _ := e.sim.StartSFTP("") // already started: returns the address
	day := settlement.DayOf(e.sim.Now())
	pid := e.paidWallet("rep-1", hkd("10000"), "ALIPAY_HK")
	if _, c := e.refund("rep-1-r", pid, hkd("2500")); c != gateway.CodeSuccess {
		t.Fatal(c)
	}
	req := walletPay("rep-2", gateway.Amount{Currency: "HKD", Value: "7810"}, "ALIPAY_HK")
	req.SettlementStrategy = &gateway.SettlementStrategy{SettlementCurrency: "USD"}
	if _, c := e.pay(req); c != gateway.CodePaymentInProcess {
		t.Fatal(c)
	}
	_ = e.sim.Complete("rep-2")
	e.quiesce()

	ctx := context.Background()
	if _, err := settlement.DialSFTP(ctx, settlement.SFTPConfig{Addr: addr, Username: "merchant1", Password: "wrong"}); err == nil {
		t.Fatal("logged in with a wrong password")
	}
	src, err := settlement.DialSFTP(ctx, settlement.SFTPConfig{Addr: addr, Username: "merchant1", Password: "s3cret", HostKey: e.sim.SFTPHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	root := settlement.Root("", testClientID)
	if days, _ := src.Days(root); len(days) != 0 {
		t.Fatalf("reports before the day ended: %v", days)
	}
	e.sim.Advance(24 * time.Hour)
	days, err := src.Days(root)
	if err != nil || len(days) != 1 || days[0] != day {
		t.Fatalf("days %v %v, want [%s]", days, err, day)
	}
	checkTransactionDetails(t, e, src, day, pid)
	e.sim.Advance(24 * time.Hour)
	checkSettlementBatch(t, src, day.AddDays(1))
	checkReportFaults(t, e, src, day, pid)
	// Retention: after 8 more days the first day is gone.
	e.sim.Advance(8 * 24 * time.Hour)
	if days, _ = src.Days(root); len(days) == 0 || days[0] == day {
		t.Fatalf("day %s still listed after the retention: %v", day, days)
	}
}

// checkTransactionDetails reads day's transaction details: the payment pid
// with its fee, its refund, and a payment settled in another currency.
func checkTransactionDetails(t *testing.T, e *env, src *settlement.Source, day settlement.Day, pid string) {
	files, _ := src.Reports(settlement.Dir("", testClientID, day))
	if len(files) != 1 || files[0].Kind != settlement.TransactionDetails {
		t.Fatalf("files of %s: %+v", day, files)
	}
	lines, err := readReport(t, src, files[0].Path, settlement.TransactionDetails)
	if err != nil || len(lines) != 3 {
		t.Fatalf("lines %+v %v", lines, err)
	}
	byReq := map[string]settlement.Line{}
	for _, l := range lines {
		byReq[l.TransactionRequestID] = l
	}
	pay, ref, fx := byReq["rep-1"], byReq["rep-1-r"], byReq["rep-2"]
	bps := e.sim.FeeBasisPoints("ALIPAY_HK")
	if pay.TransactionID != pid || pay.TransactionType != settlement.TypePayment || pay.TransactionAmount.String() != "HKD 100.00" ||
		pay.SettlementAmount.String() != "HKD 100.00" || pay.Fee.Minor() != -(10000*bps+5000)/10000 {
		t.Fatalf("payment line %+v (fee bps %d)", pay, bps)
	}
	if ref.TransactionType != settlement.TypeRefund || ref.OriginalTransactionID != pid || ref.TransactionRequestID != "rep-1-r" ||
		ref.SettlementAmount.String() != "HKD -25.00" || ref.Fee.Minor() <= 0 {
		t.Fatalf("refund line %+v", ref)
	}
	if fx.SettlementAmount.String() != "USD 10.00" || fx.QuoteCurrencyPair != "USD/HKD" || fx.QuotePrice != "7.81" {
		t.Fatalf("fx line %+v", fx)
	}
}

// checkSettlementBatch reads the settlement batch published on sday: details
// and summary per settlement currency, the HKD total net of the refund.
func checkSettlementBatch(t *testing.T, src *settlement.Source, sday settlement.Day) {
	files, _ := src.Reports(settlement.Dir("", testClientID, sday))
	var kinds []string
	for _, f := range files {
		kinds = append(kinds, string(f.Kind)+":"+f.Name[:20])
	}
	if len(files) != 5 { // HKD and USD details + summaries, and sday's transaction details
		t.Fatalf("files of %s: %v", sday, kinds)
	}
	for _, f := range files {
		if f.Kind != settlement.SettlementSummary || !strings.Contains(f.Name, "_HKD_") {
			continue
		}
		r, _ := src.Open(f.Path)
		rd, err := settlement.NewReader(r, settlement.SettlementSummary)
		if err != nil {
			t.Fatal(err)
		}
		var total settlement.SummaryLine
		for {
			s, err := rd.ReadSummary()
			if err != nil {
				break
			}
			total = s
		}
		r.Close()
		if total.SummaryType != settlement.SummaryTotal || total.Count != 2 || total.SettlementAmount.String() != "HKD 75.00" {
			t.Fatalf("summary total %+v", total)
		}
	}
}

// checkReportFaults injects discrepancies into day's transaction report: an
// amount override, an omitted line, a truncated file, a duplicate, a late
// file, and a fault of an unknown kind refused.
func checkReportFaults(t *testing.T, e *env, src *settlement.Source, day settlement.Day, pid string) {
	path := settlement.Dir("", testClientID, day) + settlement.TransactionFileName(day, 0)
	_ = e.sim.SetTransactionOverride(pid, TransactionOverride{Amount: "99.00"})
	_ = e.sim.SetTransactionOverride("nope", TransactionOverride{})
	lines, _ := readReport(t, src, path, settlement.TransactionDetails)
	if lines[0].TransactionID != pid || lines[0].TransactionAmount.String() != "HKD 99.00" {
		t.Fatalf("amount override: %+v", lines[0])
	}
	_ = e.sim.SetTransactionOverride(pid, TransactionOverride{Omit: true})
	if lines, _ = readReport(t, src, path, settlement.TransactionDetails); len(lines) != 2 {
		t.Fatalf("omitted: %d lines", len(lines))
	}
	_ = e.sim.SetReportFault(ReportFault{ClientID: testClientID, Day: day, Kind: settlement.TransactionDetails, Fault: ReportTruncated})
	if _, err := readReport(t, src, path, settlement.TransactionDetails); !errors.Is(err, settlement.ErrTruncated) {
		t.Fatalf("truncated report read: %v", err)
	}
	_ = e.sim.SetReportFault(ReportFault{ClientID: testClientID, Day: day, Kind: settlement.TransactionDetails, Fault: ReportDuplicate})
	if files, _ := src.Reports(settlement.Dir("", testClientID, day)); len(files) != 2 || files[1].Name != settlement.TransactionFileName(day, 1) {
		t.Fatalf("duplicate: %+v", files)
	}
	_ = e.sim.SetReportFault(ReportFault{ClientID: testClientID, Day: day, Kind: settlement.TransactionDetails, Fault: ReportLate})
	if files, _ := src.Reports(settlement.Dir("", testClientID, day)); len(files) != 0 {
		t.Fatalf("late: %+v", files)
	}
	if err := e.sim.SetReportFault(ReportFault{ClientID: testClientID, Day: day, Kind: "X", Fault: ReportLate}); !errors.Is(err, ErrInvalidInput) {
		t.Fatal(err)
	}
}
