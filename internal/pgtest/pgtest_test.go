package pgtest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestServerLifecycle starts a server, creates a database, survives an
// outage (Pause/Resume on the same port and data) and removes itself.
func TestServerLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if err := s.CreateDatabase(ctx, "lifecycle"); err != nil {
		t.Fatal(err)
	}
	query := func() error {
		c, err := pgx.Connect(ctx, s.URL("lifecycle"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var n int
		if err := c.QueryRow(ctx, "SELECT 40 + 2").Scan(&n); err != nil {
			return err
		}
		if n != 42 {
			t.Fatalf("SELECT 40 + 2 = %d", n)
		}
		return nil
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := query(); err == nil {
		t.Fatal("query succeeded while the server was paused")
	}
	if err := s.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if err := query(); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	bad := "postgres://postgres:wrong@" + s.Host + ":" + itoa(s.Port) + "/lifecycle?sslmode=disable"
	if c, err := pgx.Connect(ctx, bad); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password was accepted: TCP must require the password")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
