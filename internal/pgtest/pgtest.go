// Package pgtest starts a throwaway PostgreSQL server from the machine's
// server binaries (initdb, pg_ctl, postgres), the way envtest starts etcd:
// a temporary data directory, a free loopback port, the unix socket in the
// temporary directory, fsync off. Tests, `make dev` and `make bench` use it;
// nothing is mocked.
//
// PostgreSQL refuses to run as root. When the caller is root the server runs
// as the unprivileged user `nobody` (or PGTEST_USER), which owns the
// temporary directory.
//
// The binaries are looked up in PGTEST_BIN, then PATH, then
// /usr/lib/postgresql/<newest>/bin (Debian's `postgresql` package, which
// .ci/run installs when they are missing).
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Password is the superuser's password in every throwaway server; the
// server only listens on 127.0.0.1 and its socket directory.
const Password = "pgtest-password"

// User is the superuser name.
const User = "postgres"

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found in PGTEST_BIN, PATH or /usr/lib/postgresql/*/bin; install Debian's postgresql package")

// Server is a running throwaway PostgreSQL.
type Server struct {
	// Dir is the temporary directory (data, socket, log).
	Dir string
	// Host and Port are where it listens (TCP, loopback).
	Host string
	Port int
	// BinDir holds initdb, pg_ctl and postgres.
	BinDir string
	// CA is the PEM certificate of the throwaway CA that signed the
	// server's TLS certificate (for 127.0.0.1 and localhost): the server
	// accepts TLS and plaintext, so clients can test every sslmode.
	CA []byte

	cred *syscall.Credential
}

// BinDir finds the directory holding initdb and pg_ctl.
func BinDir() (string, error) {
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a server; Stop removes it.
func Start(ctx context.Context) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Host: "127.0.0.1", BinDir: bin}
	if err := s.prepare(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if s.Port, err = freePort(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.writeTLS(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.Resume(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// prepare picks the user the server runs as and hands it the directory.
func (s *Server) prepare() error {
	if os.Geteuid() != 0 {
		return nil
	}
	name := os.Getenv("PGTEST_USER")
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("running as root, PostgreSQL needs an unprivileged user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	// The parent of a MkdirTemp directory (usually /tmp) is world-searchable;
	// the directory itself becomes the server user's.
	return os.Chown(s.Dir, uid, gid)
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }
func (s *Server) logFile() string { return filepath.Join(s.Dir, "server.log") }

// SocketDir is the unix socket directory.
func (s *Server) SocketDir() string { return s.Dir }

func (s *Server) initdb(ctx context.Context) error {
	pw := filepath.Join(s.Dir, "pwfile")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		if err := os.Chown(pw, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	_, err := s.run(ctx, "initdb", "-D", s.dataDir(), "-U", User, "--pwfile", pw, "-E", "UTF8", "--no-locale",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return os.Remove(pw)
}

// writeTLS makes a throwaway CA and a server certificate signed by it.
func (s *Server) writeTLS() error {
	ca, server, key, err := certificates(s.Host)
	if err != nil {
		return fmt.Errorf("TLS certificates: %w", err)
	}
	s.CA = ca
	for name, data := range map[string][]byte{"server.crt": server, "server.key": key} {
		path := filepath.Join(s.Dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		if s.cred != nil {
			if err := os.Chown(path, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Resume starts the server (again, after Pause) on the same port and data.
func (s *Server) Resume(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=%s -F -c max_connections=100 -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s",
		s.Port, s.Dir, s.Host, filepath.Join(s.Dir, "server.crt"), filepath.Join(s.Dir, "server.key"))
	if _, err := s.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", s.dataDir(), "-l", s.logFile(), "-o", opts); err != nil {
		log, _ := os.ReadFile(s.logFile())
		return fmt.Errorf("pg_ctl start: %w\n%s", err, tail(log))
	}
	return nil
}

// Pause stops the server fast (an outage); Resume starts it again.
func (s *Server) Pause(ctx context.Context) error {
	if _, err := s.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "immediate", "-D", s.dataDir()); err != nil {
		return fmt.Errorf("pg_ctl stop: %w", err)
	}
	return nil
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", s.dataDir())
	if rerr := os.RemoveAll(s.Dir); err == nil {
		err = rerr
	}
	return err
}

// URL is a connection URL for database db as the superuser over TCP.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", User, Password, s.Host, s.Port, db)
}

// CreateDatabase creates a database (a fresh one per test keeps tests apart).
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func (s *Server) run(ctx context.Context, name string, args ...string) (string, error) {
	path := filepath.Join(s.BinDir, name)
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath(name); lerr == nil {
			path = p
		}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGPASSWORD="+Password)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME="+s.Dir)
	}
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w\n%s", name, err, tail(out.Bytes()))
	}
	return out.String(), nil
}

func tail(b []byte) string {
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
