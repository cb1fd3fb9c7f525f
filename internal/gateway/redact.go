package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// redactedMark replaces a secret that is removed entirely.
const redactedMark = "[redacted]"

// Keys are matched case-insensitively, wherever they appear in the document.
var (
	// maskedKeys keep only their last 4 characters.
	maskedKeys = map[string]bool{
		"cardno": true, "cardnumber": true, "pan": true, "accountnumber": true,
		"certificateno": true, "cpf": true, "idno": true, "idnumber": true,
		// A card token is as good as the card at the gateway that issued it.
		"cardtoken": true,
	}
	// droppedKeys are removed with their value.
	droppedKeys = map[string]bool{
		"cvv": true, "cvv2": true, "cvc": true, "cvc2": true, "securitycode": true, "cardsecuritycode": true,
		"expiryyear": true, "expirymonth": true, "expirydate": true, "expirationdate": true,
		"expiryyearmonth": true, "cardexpiry": true,
		"cardholdername": true, "holdername": true, "cardholder": true,
		"buyername": true, "shippingname": true,
		"pin": true, "password": true, "otp": true,
		// Credentials: an API key, a private key. (Not "authorization": it is
		// also a Payment's boolean spec field; an Authorization header's Bearer
		// value is caught in text by scrubCredentials.)
		"apikey": true, "merchantprivatekey": true, "privatekey": true,
	}
)

// RedactJSON returns a copy of a JSON body that is safe to log:
//   - card numbers (cardNo, cardNumber, pan, ...), card tokens (cardToken)
//     and identity numbers (certificateNo, cpf, ...) are masked to their last
//     4 characters;
//   - cvv/cvc, card expiry fields and holder/buyer/shipping names are removed;
//   - credentials (apiKey, privateKey, merchantPrivateKey) are
//     removed;
//   - any remaining string (or integer) holding a 13–19 digit, Luhn-valid
//     number (a card number in an unexpected place) is masked too, and an
//     API key or Bearer credential inside a string loses its secret.
//
// Input that is not JSON is never echoed: a placeholder describing its size is
// returned instead. Key order is not preserved.
func RedactJSON(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte{}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte(fmt.Sprintf(`{"redacted":"body is not a JSON document (%d bytes)"}`, len(body)))
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return []byte(fmt.Sprintf(`{"redacted":"body could not be re-encoded (%d bytes)"}`, len(body)))
	}
	return out
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			lk := strings.ToLower(k)
			switch {
			case droppedKeys[lk]:
				continue
			case maskedKeys[lk]:
				out[k] = maskScalar(val)
			default:
				out[k] = redactValue(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactValue(e)
		}
		return out
	case string:
		return RedactText(t)
	case json.Number:
		s := t.String()
		if looksLikePAN(s) {
			return maskLast4(s)
		}
		return t
	default:
		return v
	}
}

// maskScalar masks a sensitive value; objects and arrays under a sensitive
// key are replaced entirely.
func maskScalar(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		return maskLast4(t)
	case json.Number:
		return maskLast4(t.String())
	default:
		return redactedMark
	}
}

// maskLast4 keeps the last 4 characters of values of 8 or more characters
// and masks shorter ones completely.
func maskLast4(s string) string {
	r := []rune(s)
	if len(r) < 8 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// scrubPANs masks every run of 13–19 digits (optionally grouped by single
// spaces or dashes) that passes the Luhn check.
func scrubPANs(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		if !isDigit(s[i]) || (i > 0 && isAlnum(s[i-1])) {
			b.WriteByte(s[i])
			i++
			continue
		}
		// Scan a candidate: digits, with single separators between digits.
		j, digits := i, make([]byte, 0, 19)
		end := i
		for j < len(s) {
			if isDigit(s[j]) {
				digits = append(digits, s[j])
				j++
				end = j
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		// A number glued to letters is part of a token (a UID's
		// "45871236-1234-4abc-…", a hex id), not a card number.
		glued := end < len(s) && isAlnum(s[end])
		if !glued && len(digits) >= 13 && len(digits) <= 19 && Luhn(digits) {
			b.WriteString("****")
			b.Write(digits[len(digits)-4:])
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
	return b.String()
}

func looksLikePAN(s string) bool {
	if len(s) < 13 || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return Luhn(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// Luhn reports whether digits (ASCII '0'-'9' only) pass the Luhn checksum
// that card numbers carry. The redactor uses it to find card numbers in
// bodies; the simulator to validate them.
func Luhn[D ~string | ~[]byte](digits D) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// RedactText masks card numbers (runs of 13–19 Luhn-valid digits, optionally
// grouped by spaces or dashes) in free text such as a log line, keeping
// their last 4 digits, and removes the secret of API keys and Bearer
// credentials (keeping "isak_TEST_", the kind and environment).
func RedactText(s string) string { return scrubPANs(scrubCredentials(s)) }

var (
	// apiKeyText finds API keys in text: <isak|irak>_<TEST|PROD>_ then
	// anything up to a space, quote or delimiter.
	apiKeyText = regexp.MustCompile(`\b(isak|irak)_(TEST|PROD)_[^\s"'<>,;]+`)
	// bearerText finds a Bearer credential in text (an echoed header).
	bearerText = regexp.MustCompile(`(?i)\bbearer\s+[^\s"'<>,;]+`)
)

// scrubCredentials removes API keys and Bearer credentials from text.
func scrubCredentials(s string) string {
	if !strings.Contains(s, "ak_") && !strings.Contains(strings.ToLower(s), "bearer") {
		return s
	}
	s = apiKeyText.ReplaceAllString(s, "${1}_${2}_"+redactedMark)
	return bearerText.ReplaceAllString(s, "Bearer "+redactedMark)
}
