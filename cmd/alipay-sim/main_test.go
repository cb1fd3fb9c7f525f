package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func TestKeysGeneratedOnceThenReused(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pub1, gw1, err := loadKeys(log, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{merchantPrivateFile, merchantPublicFile, gatewayPrivateFile, gatewayPublicFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, merchantPrivateFile))
	if _, err := gateway.ParsePrivateKey(string(b)); err != nil {
		t.Fatalf("merchant private key not in the gateway's format: %v", err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, gatewayPublicFile))
	if k, err := gateway.ParsePublicKey(string(b)); err != nil || !k.Equal(&gw1.PublicKey) {
		t.Fatalf("gateway public key: %v", err)
	}
	pub2, gw2, err := loadKeys(log, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !pub1.Equal(pub2) || !gw1.Equal(gw2) {
		t.Fatal("keys were not reused")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--fault-profile", "nope", "--keys-dir", t.TempDir()},
		{"--log-format", "xml"},
		{"--time-scale", "-1", "--keys-dir", t.TempDir()},
	} {
		if err := run(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
