// Command alipay-sim runs the local Antom / Alipay AMS gateway simulator
// (package internal/gatewaysim) as a server, for the demo and for
// out-of-process tests.
//
//	alipay-sim --listen 127.0.0.1:8080 --keys-dir .alipay-sim --client-id SANDBOX_SIM000001
//
// On first run it generates a merchant key pair and a gateway key pair in
// --keys-dir (in the gateway's formats: base64 PKCS#8 private keys, base64
// X.509 SubjectPublicKeyInfo public keys) and prints where the merchant
// private key and the gateway public key are; later runs reuse them. See
// docs/simulator.md.
package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// Key file names in --keys-dir.
const (
	merchantPrivateFile = "merchant_private_key.txt"
	merchantPublicFile  = "merchant_public_key.txt"
	gatewayPrivateFile  = "gateway_private_key.txt"
	gatewayPublicFile   = "gateway_public_key.txt"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "alipay-sim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("alipay-sim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on")
	keysDir := fs.String("keys-dir", ".alipay-sim", "directory holding (or receiving, on first run) the merchant and gateway key pairs")
	clientID := fs.String("client-id", "SANDBOX_SIM000001", "Client-Id of the merchant registered at start")
	keyVersion := fs.String("key-version", "1", "keyVersion of the merchant key and of the gateway's signatures")
	timeScale := fs.Float64("time-scale", 1, "simulated seconds per wall second; 0 = manual clock (moved only by POST /_sim/clock/advance)")
	start := fs.String("start", "", "simulated start time (RFC 3339); default now")
	seed := fs.Uint64("seed", 1, "seed for faults, automatic declines and ids")
	faults := fs.String("fault-profile", "", "fault profile: a name ("+profileNames()+") or a JSON FaultProfile")
	notifyURL := fs.String("notify-url", "", "the merchant's default notification URL (dashboard setting)")
	publicURL := fs.String("public-url", "", "base URL put into normalUrl (default: from each request's Host)")
	autoComplete := fs.Duration("auto-complete", 0, "complete in-process payments after this simulated time (0 = off: pay in the browser or via /_sim/)")
	declineRate := fs.Float64("auto-decline-rate", 0, "with --auto-complete: probability that a payment is declined instead")
	captureAsync := fs.Bool("capture-async", false, "capture answers U CAPTURE_IN_PROCESS and finishes later (notifyCapture)")
	refundAsync := fs.Bool("refund-async", false, "refund answers U REFUND_IN_PROCESS and finishes later (notifyRefund)")
	captureMode := fs.String("default-capture-mode", "AUTOMATIC", "card captureMode when the request has none: AUTOMATIC or MANUAL")
	remote := fs.Bool("allow-remote-control", false, "serve the /_sim/ control API to non-loopback clients too")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	sftpAddr := fs.String("sftp-listen", "", "serve the reconciliation reports over SFTP on this address (e.g. 127.0.0.1:2222; empty = off)")
	sftpUser := fs.String("sftp-user", "", "with --sftp-listen: username:password of the merchant registered at start")
	settleDays := fs.Int("settlement-delay-days", 1, "N of the T+N settlement period of the reports")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	} else if *logFormat != "text" {
		return fmt.Errorf("--log-format %q: want text or json", *logFormat)
	}
	log := slog.New(handler)

	fp, err := gatewaysim.ParseFaultProfile(*faults)
	if err != nil {
		return err
	}
	merchantPub, gatewayKey, err := loadKeys(log, *keysDir)
	if err != nil {
		return err
	}
	startAt := time.Now().Truncate(time.Second)
	if *start != "" {
		if startAt, err = time.Parse(time.RFC3339, *start); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	var clock gatewaysim.Clock
	switch {
	case *timeScale < 0:
		return errors.New("--time-scale must not be negative")
	case *timeScale == 0:
		clock = gatewaysim.NewManualClock(startAt)
	default:
		clock = gatewaysim.NewScaledClock(startAt, *timeScale)
	}

	sim, err := gatewaysim.New(gatewaysim.Options{
		GatewayKey: gatewayKey, GatewayKeyVersion: *keyVersion, Clock: clock, Seed: *seed,
		PublicURL: strings.TrimRight(*publicURL, "/"), Logger: log, DefaultCaptureMode: *captureMode,
		AllowRemoteControl: *remote, Faults: fp,
		Reports: gatewaysim.ReportOptions{SFTPAddr: *sftpAddr, SettlementDelayDays: *settleDays},
		Behavior: gatewaysim.Behavior{
			CaptureAsync: *captureAsync, RefundAsync: *refundAsync,
			AutoComplete: gatewaysim.AutoComplete{After: gatewaysim.Duration(*autoComplete), DeclineRate: *declineRate},
		},
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := sim.AddMerchant(*clientID, merchantPub, *keyVersion, *notifyURL); err != nil {
		return err
	}
	if *sftpUser != "" {
		u, p, ok := strings.Cut(*sftpUser, ":")
		if !ok {
			return errors.New("--sftp-user: want username:password")
		}
		if err := sim.SetSFTPUser(*clientID, u, p); err != nil {
			return err
		}
	}
	if *sftpAddr != "" {
		addr, _ := sim.StartSFTP(*sftpAddr)
		log.Info("alipay-sim SFTP reports", "addr", addr, "hostKey", sim.SFTPHostKey())
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("alipay-sim listening",
		"url", "http://"+ln.Addr().String(), "clientId", *clientID, "keyVersion", *keyVersion,
		"prefixes", strings.Join(gatewaysim.Prefixes, ","), "timeScale", *timeScale, "seed", *seed,
		"faultProfile", fp.Name, "notifyUrl", *notifyURL)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func profileNames() string {
	names := make([]string, 0, len(gatewaysim.NamedFaultProfiles))
	for n := range gatewaysim.NamedFaultProfiles {
		names = append(names, n)
	}
	sortStrings(names)
	return strings.Join(names, ", ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// loadKeys reads the key pairs from dir, generating any that are missing.
// Only paths are logged, never key material.
func loadKeys(log *slog.Logger, dir string) (*rsa.PublicKey, *rsa.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	merchant, createdM, err := keyPair(dir, merchantPrivateFile, merchantPublicFile)
	if err != nil {
		return nil, nil, err
	}
	gw, createdG, err := keyPair(dir, gatewayPrivateFile, gatewayPublicFile)
	if err != nil {
		return nil, nil, err
	}
	verb := "reusing"
	if createdM || createdG {
		verb = "generated"
	}
	mp, _ := filepath.Abs(filepath.Join(dir, merchantPrivateFile))
	gp, _ := filepath.Abs(filepath.Join(dir, gatewayPublicFile))
	log.Info(verb+" keys", "merchantPrivateKey", mp, "gatewayPublicKey", gp,
		"format", "base64 PKCS#8 private key / base64 X.509 SubjectPublicKeyInfo public key")
	fmt.Fprintf(os.Stderr, "merchant private key (sign requests):  %s\ngateway public key (verify responses): %s\n", mp, gp)
	return &merchant.PublicKey, gw, nil
}

func keyPair(dir, privName, pubName string) (*rsa.PrivateKey, bool, error) {
	privPath := filepath.Join(dir, privName)
	b, err := os.ReadFile(privPath)
	if err == nil {
		k, err := gateway.ParsePrivateKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", privPath, err)
		}
		if _, err := os.Stat(filepath.Join(dir, pubName)); errors.Is(err, os.ErrNotExist) {
			if err := writePublic(filepath.Join(dir, pubName), &k.PublicKey); err != nil {
				return nil, false, err
			}
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	k, err := gateway.GenerateKey()
	if err != nil {
		return nil, false, err
	}
	enc, err := gateway.EncodePrivateKey(k)
	if err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(privPath, []byte(enc+"\n"), 0o600); err != nil {
		return nil, false, err
	}
	if err := writePublic(filepath.Join(dir, pubName), &k.PublicKey); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

func writePublic(path string, k *rsa.PublicKey) error {
	enc, err := gateway.EncodePublicKey(k)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(enc+"\n"), 0o644)
}
