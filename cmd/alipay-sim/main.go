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

// options are the command line's flags.
type options struct {
	listen, keysDir, clientID, keyVersion, start, faults string
	notifyURL, publicURL, captureMode, logFormat         string
	sftpAddr, sftpUser                                   string
	timeScale, declineRate                               float64
	seed                                                 uint64
	autoComplete, regAutoApprove                         time.Duration
	captureAsync, refundAsync, remote, requireReg        bool
	settleDays                                           int
}

func parseFlags(args []string) (*options, error) {
	var o options
	fs := flag.NewFlagSet("alipay-sim", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.StringVar(&o.keysDir, "keys-dir", ".alipay-sim", "directory holding (or receiving, on first run) the merchant and gateway key pairs")
	fs.StringVar(&o.clientID, "client-id", "SANDBOX_SIM000001", "Client-Id of the merchant registered at start")
	fs.StringVar(&o.keyVersion, "key-version", "1", "keyVersion of the merchant key and of the gateway's signatures")
	fs.Float64Var(&o.timeScale, "time-scale", 1, "simulated seconds per wall second; 0 = manual clock (moved only by POST /_sim/clock/advance)")
	fs.StringVar(&o.start, "start", "", "simulated start time (RFC 3339); default now")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for faults, automatic declines and ids")
	fs.StringVar(&o.faults, "fault-profile", "", "fault profile: a name ("+profileNames()+") or a JSON FaultProfile")
	fs.StringVar(&o.notifyURL, "notify-url", "", "the merchant's default notification URL (dashboard setting)")
	fs.StringVar(&o.publicURL, "public-url", "", "base URL put into normalUrl (default: from each request's Host)")
	fs.DurationVar(&o.autoComplete, "auto-complete", 0, "complete in-process payments after this simulated time (0 = off: pay in the browser or via /_sim/)")
	fs.Float64Var(&o.declineRate, "auto-decline-rate", 0, "with --auto-complete: probability that a payment is declined instead")
	fs.BoolVar(&o.captureAsync, "capture-async", false, "capture answers U CAPTURE_IN_PROCESS and finishes later (notifyCapture)")
	fs.BoolVar(&o.refundAsync, "refund-async", false, "refund answers U REFUND_IN_PROCESS and finishes later (notifyRefund)")
	fs.DurationVar(&o.regAutoApprove, "registration-auto-approve", 0, "approve every PSP of a merchant registration still pending after this simulated time (0 = off: review via /_sim/registrations/{id}/review)")
	fs.BoolVar(&o.requireReg, "require-merchant-registration", false, "refuse pays for a secondary merchant (order.merchant.referenceMerchantId) whose registration has not approved the payment method")
	fs.StringVar(&o.captureMode, "default-capture-mode", "AUTOMATIC", "card captureMode when the request has none: AUTOMATIC or MANUAL")
	fs.BoolVar(&o.remote, "allow-remote-control", false, "serve the /_sim/ control API to non-loopback clients too")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.sftpAddr, "sftp-listen", "", "serve the reconciliation reports over SFTP on this address (e.g. 127.0.0.1:2222; empty = off)")
	fs.StringVar(&o.sftpUser, "sftp-user", "", "with --sftp-listen: username:password of the merchant registered at start")
	fs.IntVar(&o.settleDays, "settlement-delay-days", 1, "N of the T+N settlement period of the reports")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(o.logFormat)
	if err != nil {
		return err
	}
	fp, err := gatewaysim.ParseFaultProfile(o.faults)
	if err != nil {
		return err
	}
	sim, err := newSimulator(o, fp, log)
	if err != nil {
		return err
	}
	defer sim.Close()
	return serve(o, sim, fp, log)
}

func newLogger(format string) (*slog.Logger, error) {
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if format == "json" {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	} else if format != "text" {
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	return slog.New(handler), nil
}

// newSimulator builds the simulator from the flags, with its keys from
// --keys-dir, and registers the merchant (and its SFTP user).
func newSimulator(o *options, fp gatewaysim.FaultProfile, log *slog.Logger) (*gatewaysim.Simulator, error) {
	merchantPub, gatewayKey, err := loadKeys(log, o.keysDir)
	if err != nil {
		return nil, err
	}
	clock, err := newClock(o.start, o.timeScale)
	if err != nil {
		return nil, err
	}
	sim, err := gatewaysim.New(gatewaysim.Options{
		GatewayKey: gatewayKey, GatewayKeyVersion: o.keyVersion, Clock: clock, Seed: o.seed,
		PublicURL: strings.TrimRight(o.publicURL, "/"), Logger: log, DefaultCaptureMode: o.captureMode,
		AllowRemoteControl: o.remote, Faults: fp,
		Reports: gatewaysim.ReportOptions{SFTPAddr: o.sftpAddr, SettlementDelayDays: o.settleDays},
		Behavior: gatewaysim.Behavior{
			CaptureAsync: o.captureAsync, RefundAsync: o.refundAsync,
			AutoComplete:            gatewaysim.AutoComplete{After: gatewaysim.Duration(o.autoComplete), DeclineRate: o.declineRate},
			RegistrationAutoApprove: gatewaysim.Duration(o.regAutoApprove), RequireMerchantRegistration: o.requireReg,
		},
	})
	if err != nil {
		return nil, err
	}
	if err := registerMerchant(o, sim, merchantPub, log); err != nil {
		_ = sim.Close()
		return nil, err
	}
	return sim, nil
}

// newClock is a manual clock (time scale 0) or a scaled one, from --start
// or now.
func newClock(start string, scale float64) (gatewaysim.Clock, error) {
	startAt := time.Now().Truncate(time.Second)
	if start != "" {
		var err error
		if startAt, err = time.Parse(time.RFC3339, start); err != nil {
			return nil, fmt.Errorf("--start: %w", err)
		}
	}
	switch {
	case scale < 0:
		return nil, errors.New("--time-scale must not be negative")
	case scale == 0:
		return gatewaysim.NewManualClock(startAt), nil
	default:
		return gatewaysim.NewScaledClock(startAt, scale), nil
	}
}

// registerMerchant adds the --client-id merchant and, with --sftp-user, its
// SFTP login; with --sftp-listen it logs where the reports are served.
func registerMerchant(o *options, sim *gatewaysim.Simulator, pub *rsa.PublicKey, log *slog.Logger) error {
	if err := sim.AddMerchant(o.clientID, pub, o.keyVersion, o.notifyURL); err != nil {
		return err
	}
	if o.sftpUser != "" {
		u, p, ok := strings.Cut(o.sftpUser, ":")
		if !ok {
			return errors.New("--sftp-user: want username:password")
		}
		if err := sim.SetSFTPUser(o.clientID, u, p); err != nil {
			return err
		}
	}
	if o.sftpAddr != "" {
		addr, _ := sim.StartSFTP(o.sftpAddr)
		log.Info("alipay-sim SFTP reports", "addr", addr, "hostKey", sim.SFTPHostKey())
	}
	return nil
}

// serve answers HTTP on --listen until SIGINT or SIGTERM, then shuts down
// within 10s.
func serve(o *options, sim *gatewaysim.Simulator, fp gatewaysim.FaultProfile, log *slog.Logger) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("alipay-sim listening",
		"url", "http://"+ln.Addr().String(), "clientId", o.clientID, "keyVersion", o.keyVersion,
		"prefixes", strings.Join(gatewaysim.Prefixes, ","), "timeScale", o.timeScale, "seed", o.seed,
		"faultProfile", fp.Name, "notifyUrl", o.notifyURL)

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
