// Package money holds exact money amounts for the Alipay/Antom Cashier
// Payment gateway. Money is never a float anywhere in this package.
//
// There are two string forms of an amount:
//
//   - The Kubernetes API form, in major units: {currency: "HKD", value:
//     "10.50"}. Parse it with ParseMajor (or check it with Validate) and
//     print it with Amount.Major.
//   - The gateway's wire form, in the currency's smallest unit:
//     {"currency": "HKD", "value": "1050"}. Parse it with ParseMinor (or
//     ParseWire) and print it with Amount.MinorString (or Amount.Wire).
//
// The number of decimal places of each currency comes from the table in
// currencies.go (ISO 4217 plus the gateway's rules). An Amount holds whole
// minor units in an int64 and is limited to MaxDigits digits, the gateway's
// limit, so arithmetic on it cannot overflow.
//
// Every error returned by this package wraps one of the sentinel errors
// below, so callers can test it with errors.Is, and its message is written
// for a human, fit to be shown as-is in a Kubernetes condition.
package money
