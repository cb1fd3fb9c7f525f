// Package settlement holds the gateway's reconciliation reports: the
// transaction details report (every transaction of a day T, generated on
// T+1), the settlement details report (every transaction of a settlement
// batch) and the settlement summary report (a batch's totals per summary
// type). It reads and writes them as the gateway publishes them on its SFTP
// server: UTF-8 CSV, a header line of parameter names, one line per record,
// and a last line "<END>".
//
// Reading streams: one record at a time through a Reader, never the whole
// file, so a 100 MB report costs a few kilobytes. A file that ends without
// "<END>" is refused with ErrTruncated (the gateway was still writing it, or
// the transfer broke); callers retry later. Columns are found by name in the
// header, so a gateway that adds columns, or a merchant whose report was
// customised, still parses; a missing mandatory column is an error naming
// it.
//
// Amounts are major-unit decimal strings in the column's currency ("10.50"
// HKD, "1000" JPY), signed from the merchant's side (refunds, chargebacks and
// fees are negative), parsed exactly with package money into minor units.
// Times are ISO 8601 with an offset ("2026-01-05T10:00:00+08:00"). Days are
// calendar days at UTC+8, the gateway's settlement time zone, written
// YYYYMMDD in paths.
//
// Which of these facts the product documentation confirms and which are
// inferred is listed in docs/simulator.md ("Reconciliation reports").
package settlement
