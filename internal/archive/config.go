package archive

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// Config says how to reach the archive database.
type Config struct {
	// URL is a PostgreSQL connection URL or key=value string (host, port,
	// database, user; a password in it is allowed but Password is better).
	URL string
	// Password overrides any password in URL.
	Password string
	// SSLMode is disable, require, verify-ca or verify-full (the default).
	SSLMode string
	// CA is the PEM bundle that signs the server's certificate (verify-ca,
	// verify-full; default: the system roots).
	CA []byte
	// Cert and Key are a PEM client certificate and key, for databases that
	// authenticate clients by certificate.
	Cert, Key []byte
	// MaxConns bounds the pool (default 4).
	MaxConns int32
	// ConnectTimeout bounds each connection attempt (default 5s).
	ConnectTimeout time.Duration
}

// ConfigFromSecret reads the connection from an archive Secret (keys url,
// password, ca.crt, tls.crt, tls.key) and the GatewayConfig's sslMode.
func ConfigFromSecret(s *corev1.Secret, sslMode string) (Config, error) {
	c := Config{
		URL:      strings.TrimSpace(string(s.Data[v1.ArchiveSecretKeyURL])),
		Password: string(s.Data[v1.ArchiveSecretKeyPassword]),
		SSLMode:  sslMode,
		CA:       s.Data[v1.ArchiveSecretKeyCA],
		Cert:     s.Data[v1.ArchiveSecretKeyCert],
		Key:      s.Data[v1.ArchiveSecretKeyKey],
	}
	if c.URL == "" {
		return c, fmt.Errorf("archive secret %s/%s has no %q key (a postgres:// URL)", s.Namespace, s.Name, v1.ArchiveSecretKeyURL)
	}
	if (len(c.Cert) == 0) != (len(c.Key) == 0) {
		return c, fmt.Errorf("archive secret %s/%s: %s and %s go together", s.Namespace, s.Name, v1.ArchiveSecretKeyCert, v1.ArchiveSecretKeyKey)
	}
	_, err := c.poolConfig()
	if err != nil {
		return c, fmt.Errorf("archive secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return c, nil
}

// poolConfig turns the config into pgx's, TLS set from SSLMode alone (an
// sslmode in the URL is overridden, and there is no plaintext fallback).
func (c Config) poolConfig() (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(c.URL)
	if err != nil {
		return nil, fmt.Errorf("archive url: %w", redact(err, c))
	}
	if c.Password != "" {
		pc.ConnConfig.Password = c.Password
	}
	pc.MaxConns = c.MaxConns
	if pc.MaxConns == 0 {
		pc.MaxConns = 4
	}
	pc.ConnConfig.ConnectTimeout = c.ConnectTimeout
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pc.ConnConfig.Fallbacks = nil
	pc.ConnConfig.TLSConfig, err = c.tlsConfig(pc.ConnConfig.Host)
	return pc, err
}

// tlsConfig builds the client TLS settings for an sslmode, as libpq means it.
func (c Config) tlsConfig(host string) (*tls.Config, error) {
	mode := c.SSLMode
	if mode == "" {
		mode = v1.ArchiveSSLVerifyFull
	}
	if mode == v1.ArchiveSSLDisable {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if len(c.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CA) {
			return nil, fmt.Errorf("%s holds no PEM certificate", v1.ArchiveSecretKeyCA)
		}
		t.RootCAs = pool
	}
	if len(c.Cert) > 0 {
		pair, err := tls.X509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	switch mode {
	case v1.ArchiveSSLVerifyFull:
	case v1.ArchiveSSLRequire:
		t.InsecureSkipVerify = true
	case v1.ArchiveSSLVerifyCA:
		// The chain must lead to the CA; the host name is not checked.
		t.InsecureSkipVerify = true
		roots := t.RootCAs
		t.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, roots)
		}
	default:
		return nil, fmt.Errorf("sslMode %q is not one of disable, require, verify-ca, verify-full", mode)
	}
	return t, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("the server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// redact keeps a password out of a parse error.
func redact(err error, c Config) error {
	if c.Password == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), c.Password, "xxxxx"))
}
