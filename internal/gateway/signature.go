package gateway

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Header names used on every request, response and notification. HTTP header
// names are case-insensitive; these are the canonical spellings.
const (
	HeaderClientID     = "Client-Id"
	HeaderRequestTime  = "Request-Time"
	HeaderResponseTime = "Response-Time"
	HeaderSignature    = "Signature"
	HeaderContentType  = "Content-Type"

	// ContentTypeJSON is the only media type the gateway accepts and sends.
	ContentTypeJSON = "application/json; charset=UTF-8"

	// SignatureAlgorithm is the only algorithm the gateway uses (SHA256withRSA, PKCS#1 v1.5).
	SignatureAlgorithm = "RSA256"
)

// Errors returned by signature handling; wrapped with context by the callers.
var (
	ErrSignatureMissing   = errors.New("signature header missing")
	ErrSignatureMalformed = errors.New("signature header malformed")
	ErrSignatureInvalid   = errors.New("signature does not verify")
)

// StringToSign builds the exact bytes that are signed in all three directions
// (request, response, notification):
//
//	<METHOD> <PATH>\n<Client-Id>.<TIME>.<BODY>
//
// PATH is the URI path without host; BODY is the raw bytes as sent on the
// wire, never a re-serialisation.
func StringToSign(method, path, clientID, timestamp string, body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(method) + len(path) + len(clientID) + len(timestamp) + len(body) + 4)
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(clientID)
	b.WriteByte('.')
	b.WriteString(timestamp)
	b.WriteByte('.')
	b.Write(body)
	return b.Bytes()
}

// SignatureHeader is the parsed form of a Signature header:
// algorithm=RSA256,keyVersion=1,signature=<url-encoded base64>.
type SignatureHeader struct {
	Algorithm  string
	KeyVersion string
	Signature  []byte
}

// String renders the header value with the signature base64- then URL-encoded.
func (h SignatureHeader) String() string {
	alg := h.Algorithm
	if alg == "" {
		alg = SignatureAlgorithm
	}
	return "algorithm=" + alg + ",keyVersion=" + h.KeyVersion +
		",signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(h.Signature))
}

// ParseSignatureHeader parses a Signature header value. Spaces after the
// commas (as in the gateway's documentation examples) are accepted.
func ParseSignatureHeader(v string) (SignatureHeader, error) {
	var h SignatureHeader
	if strings.TrimSpace(v) == "" {
		return h, ErrSignatureMissing
	}
	var sig string
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return h, fmt.Errorf("%w: element %q is not key=value", ErrSignatureMalformed, part)
		}
		if seen[k] {
			return h, fmt.Errorf("%w: %s given twice", ErrSignatureMalformed, k)
		}
		seen[k] = true
		switch k {
		case "algorithm":
			h.Algorithm = val
		case "keyVersion":
			h.KeyVersion = val
		case "signature":
			sig = val
		}
	}
	if h.Algorithm != SignatureAlgorithm {
		return h, fmt.Errorf("%w: algorithm %q, want %s", ErrSignatureMalformed, h.Algorithm, SignatureAlgorithm)
	}
	if sig == "" {
		return h, fmt.Errorf("%w: no signature element", ErrSignatureMalformed)
	}
	unescaped, err := url.QueryUnescape(sig)
	if err != nil {
		return h, fmt.Errorf("%w: signature is not URL-encoded: %v", ErrSignatureMalformed, err)
	}
	raw, err := base64.StdEncoding.DecodeString(unescaped)
	if err != nil {
		return h, fmt.Errorf("%w: signature is not base64: %v", ErrSignatureMalformed, err)
	}
	h.Signature = raw
	return h, nil
}

// Sign returns the Signature header value for the given message, signed with
// key (the merchant's key for requests; the gateway's for responses and
// notifications).
func Sign(key *rsa.PrivateKey, keyVersion, method, path, clientID, timestamp string, body []byte) (string, error) {
	if key == nil {
		return "", errors.New("sign: no private key")
	}
	digest := sha256.Sum256(StringToSign(method, path, clientID, timestamp, body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return SignatureHeader{Algorithm: SignatureAlgorithm, KeyVersion: keyVersion, Signature: sig}.String(), nil
}

// Verify checks a Signature header value against the message with pub. It
// returns the parsed header (for its key version) on success.
func Verify(pub *rsa.PublicKey, header, method, path, clientID, timestamp string, body []byte) (SignatureHeader, error) {
	h, err := ParseSignatureHeader(header)
	if err != nil {
		return h, err
	}
	if pub == nil {
		return h, errors.New("verify: no public key")
	}
	digest := sha256.Sum256(StringToSign(method, path, clientID, timestamp, body))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], h.Signature); err != nil {
		return h, ErrSignatureInvalid
	}
	return h, nil
}

// ParsePrivateKey reads an RSA private key in the gateway's format: the base64
// body of a PKCS#8 key without PEM armour. PEM ("PRIVATE KEY" or
// "RSA PRIVATE KEY") is accepted too so that keys made by openssl work as-is.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := keyDER(s, "private")
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is %T, want RSA", k)
		}
		return checkKeySize(rk)
	}
	if rk, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return checkKeySize(rk)
	}
	return nil, errors.New("private key is neither PKCS#8 nor PKCS#1 RSA")
}

// ParsePublicKey reads an RSA public key in the gateway's format: base64 DER
// X.509 SubjectPublicKeyInfo without PEM armour. PEM "PUBLIC KEY" is accepted too.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := keyDER(s, "public")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		if rk, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
			return rk, nil
		}
		return nil, fmt.Errorf("public key is not X.509 SubjectPublicKeyInfo: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", k)
	}
	return rk, nil
}

func checkKeySize(k *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	if k.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key has %d bits; the gateway requires at least 2048", k.N.BitLen())
	}
	return k, nil
}

func keyDER(s, kind string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%s key is empty", kind)
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, fmt.Errorf("%s key: PEM armour present but no PEM block decodes", kind)
		}
		return block.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("%s key is neither PEM nor base64 DER: %w", kind, err)
	}
	return der, nil
}

// EncodePrivateKey renders key in the gateway's format (base64 PKCS#8 DER).
func EncodePrivateKey(key *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// EncodePublicKey renders key in the gateway's format (base64 X.509 SPKI DER).
func EncodePublicKey(key *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// GenerateKey makes a new RSA-2048 key pair (for the simulator, tests and the demo).
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return k, nil
}
