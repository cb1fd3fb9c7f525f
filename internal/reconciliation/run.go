package reconciliation

import (
	"errors"
	"fmt"
	"sort"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// Run collects the files of one reconciliation run and turns them into
// per-day results.
type Run struct {
	ix    *Index
	delay int
	days  map[settlement.Day]*day
	// Refused lists the files that were not counted ("day/name: reason").
	Refused []string
	// Truncated is true when a refused file was truncated (retry soon).
	Truncated bool
}

type day struct {
	date    settlement.Day
	files   []v1.ReportFileStatus
	results []*FileResult
	hashes  map[string]string // content hash -> first file name
	read    map[settlement.Kind]bool
	refused map[settlement.Kind]bool
	// batchDiscs are summary-vs-details differences found by result.
	batchDiscs []v1.Discrepancy
	listed     map[settlement.Kind]bool
}

// NewRun starts a run over ix; settlementDelay is N of T+N.
func NewRun(ix *Index, settlementDelay int) *Run {
	return &Run{ix: ix, delay: settlementDelay, days: map[settlement.Day]*day{}}
}

func (r *Run) day(d settlement.Day) *day {
	x := r.days[d]
	if x == nil {
		x = &day{date: d, hashes: map[string]string{}, read: map[settlement.Kind]bool{}, refused: map[settlement.Kind]bool{}, listed: map[settlement.Kind]bool{}}
		r.days[d] = x
	}
	return x
}

// AddDay registers a day of the window (it shows in the result even when
// it has no file of the selected reports).
func (r *Run) AddDay(d settlement.Day) { r.day(d) }

// Add records the outcome of reading one file of day d: fr from
// Index.ReadFile, or the error that refused it. A file whose content was
// counted already is listed as a duplicate and not counted again.
func (r *Run) Add(d settlement.Day, name string, k settlement.Kind, fr *FileResult, err error) {
	x := r.day(d)
	x.listed[k] = true
	st := v1.ReportFileStatus{Name: name, Kind: v1.ReportKind(k)}
	switch {
	case err != nil:
		st.Error = err.Error()
		x.refused[k] = true
		r.Refused = append(r.Refused, fmt.Sprintf("%s/%s: %v", d, name, err))
		if errors.Is(err, settlement.ErrTruncated) {
			r.Truncated = true
		}
	case x.hashes[fr.SHA256] != "":
		st.SHA256, st.Lines, st.DuplicateOf = fr.SHA256, int32(fr.Lines), x.hashes[fr.SHA256]
	default:
		st.SHA256, st.Lines = fr.SHA256, int32(fr.Lines)
		x.hashes[fr.SHA256] = name
		x.results = append(x.results, fr)
		x.read[k] = true
	}
	x.files = append(x.files, st)
}

// Result is the outcome of a run.
type Result struct {
	// Days, most recent first.
	Days []v1.ReconciliationDay
	// Discrepancies over all days, by date, class and transaction id: the
	// first MaxListed of each file and of the run.
	Discrepancies []v1.Discrepancy
	// Total counts every discrepancy, listed or not.
	Total int
	// Missing lists reports that should be there and are not
	// ("TransactionDetails of 20260105").
	Missing []string
}

// Result computes the per-day results.
func (r *Run) Result() (Result, error) {
	var res Result
	dates := make([]settlement.Day, 0, len(r.days))
	for d := range r.days {
		dates = append(dates, d)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i] > dates[j] })
	var all []v1.Discrepancy
	latestTx := settlement.Day("")
	for _, d := range dates {
		if r.days[d].read[settlement.TransactionDetails] && d > latestTx {
			latestTx = d
		}
	}
	for _, d := range dates {
		x := r.days[d]
		out, discs, err := x.result()
		if err != nil {
			return res, fmt.Errorf("day %s: %w", d, err)
		}
		all = append(all, discs...)
		for _, fr := range x.results {
			for class, n := range fr.Counts {
				add(&out.Discrepancies, class, int32(n))
				res.Total += n
			}
		}
		// The transaction details of a day are due once a later day's are out.
		if !x.listed[settlement.TransactionDetails] && d < latestTx {
			res.Missing = append(res.Missing, fmt.Sprintf("TransactionDetails of %s", d))
		}
		res.Days = append(res.Days, out)
	}
	extra := r.notInReport()
	for _, x := range r.days {
		extra = append(extra, x.batchDiscs...)
	}
	for _, dc := range extra {
		for i := range res.Days {
			if res.Days[i].Date == dc.Date {
				add(&res.Days[i].Discrepancies, dc.Class, 1)
			}
		}
	}
	res.Total += len(extra)
	all = append(all, extra...)
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Date != b.Date {
			return a.Date < b.Date
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.TransactionID+a.Object < b.TransactionID+b.Object
	})
	res.Discrepancies = all[:min(len(all), MaxListed)]
	return res, nil
}

func add(c *v1.DiscrepancyCounts, class string, n int32) {
	switch class {
	case v1.DiscrepancyAmount:
		c.Amount += n
	case v1.DiscrepancyCurrency:
		c.Currency += n
	case v1.DiscrepancyStatus:
		c.Status += n
	case v1.DiscrepancyNotInCluster:
		c.NotInCluster += n
	case v1.DiscrepancyNotInReport:
		c.NotInReport += n
	}
}

// result merges a day's counted files.
func (x *day) result() (v1.ReconciliationDay, []v1.Discrepancy, error) {
	out := v1.ReconciliationDay{Date: string(x.date), Files: x.files}
	x.batchDiscs = nil
	var discs []v1.Discrepancy
	batches := map[string]bool{}
	detailSums := map[string]money.Signed{}
	sums := map[string]*totals{}
	useSettlement := x.read[settlement.SettlementDetails]
	for _, fr := range x.results {
		out.Lines += int32(fr.Lines)
		out.Matched += int32(fr.Matched)
		discs = append(discs, fr.Discrepancies...)
		for b := range fr.batches {
			batches[b] = true
		}
		for b, s := range fr.batchSums {
			detailSums[b] = s
		}
		if (fr.Kind == settlement.SettlementDetails) == useSettlement && fr.Kind != settlement.SettlementSummary {
			if err := mergeTotals(sums, fr.totals); err != nil {
				return out, nil, err
			}
		}
	}
	// A summary's TOTAL must equal the sum of its batch's details.
	for _, fr := range x.results {
		for b, total := range fr.summaryTotals {
			det, ok := detailSums[b]
			switch {
			case !ok:
			case det != total:
				x.batchDiscs = append(x.batchDiscs, v1.Discrepancy{Date: string(x.date), Class: v1.DiscrepancyAmount, Report: v1.ReportSettlementSummary,
					TransactionType: settlement.SummaryTotal, TransactionID: b, Object: "batch/" + b,
					Message: fmt.Sprintf("summary TOTAL of batch %s is %s, its settlement details add up to %s", b, total, det)})
			default:
				out.Matched += int32(fr.summaryLines[b])
			}
		}
	}
	for b := range batches {
		out.SettlementBatchIDs = append(out.SettlementBatchIDs, b)
	}
	sort.Strings(out.SettlementBatchIDs)
	out.Totals = totalsOf(sums)
	return out, discs, nil
}

func mergeTotals(dst, src map[string]*totals) error {
	for cur, t := range src {
		d := dst[cur]
		if d == nil {
			d = &totals{}
			dst[cur] = d
		}
		for _, p := range []struct{ to, from *money.Signed }{{&d.gross, &t.gross}, {&d.refunds, &t.refunds}, {&d.fees, &t.fees}} {
			if p.from.Currency() == "" {
				continue
			}
			if err := d.add(p.to, *p.from); err != nil {
				return err
			}
		}
	}
	return nil
}

func totalsOf(sums map[string]*totals) []v1.CurrencyTotals {
	var out []v1.CurrencyTotals
	for cur, t := range sums {
		zero, err := money.SignedMinor(cur, 0)
		if err != nil {
			continue
		}
		or := func(s money.Signed) money.Signed {
			if s.Currency() == "" {
				return zero
			}
			return s
		}
		g, rf, f := or(t.gross), or(t.refunds), or(t.fees)
		net, _ := g.Add(rf)
		net, _ = net.Add(f)
		out = append(out, v1.CurrencyTotals{Currency: cur, Gross: g.Major(), Refunds: rf.Major(), Fees: f.Major(), Net: net.Major()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}

// notInReport finds the objects that moved money on a day whose report was
// read but are in none of its lines.
func (r *Run) notInReport() []v1.Discrepancy {
	seenIn := func(k settlement.Kind, d settlement.Day, key seenKey) (read, seen bool) {
		x := r.days[d]
		if x == nil || !x.read[k] || x.refused[k] {
			return false, false
		}
		for _, fr := range x.results {
			if fr.Kind == k && fr.seen[key] {
				return true, true
			}
		}
		return true, false
	}
	var out []v1.Discrepancy
	for _, o := range r.ix.all {
		for _, e := range o.expect {
			key := seenKey{o.ref, e.typ}
			if read, seen := seenIn(settlement.TransactionDetails, e.day, key); read && !seen {
				out = append(out, v1.Discrepancy{Date: string(e.day), Class: v1.DiscrepancyNotInReport,
					Report: v1.ReportTransactionDetails, TransactionType: string(e.typ), Object: o.ref,
					Message: fmt.Sprintf("%s moved %s on %s (%s) and is not in that day's transaction details", o.ref, o.amount, e.day, e.typ)})
			}
			if e.typ == settlement.TypeAuthorization {
				continue // no money moves, nothing settles
			}
			sd := e.day.AddDays(r.delay)
			if read, seen := seenIn(settlement.SettlementDetails, sd, key); read && !seen {
				out = append(out, v1.Discrepancy{Date: string(sd), Class: v1.DiscrepancyNotInReport,
					Report: v1.ReportSettlementDetails, TransactionType: string(e.typ), Object: o.ref,
					Message: fmt.Sprintf("%s moved %s on %s (%s) and is in no settlement batch of %s (T+%d)", o.ref, o.amount, e.day, e.typ, sd, r.delay)})
			}
		}
	}
	return out
}
