package settlement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTPConfig is how to reach the gateway's SFTP server.
type SFTPConfig struct {
	// Addr is host:port.
	Addr     string
	Username string
	Password string
	// HostKey, in authorized_keys form, pins the server's host key. Empty
	// accepts any host key (the connection is then not authenticated).
	HostKey string
	// Timeout bounds the TCP connect and SSH handshake (default 15s).
	Timeout time.Duration
}

// Source is an open SFTP session on the gateway's report server.
type Source struct {
	ssh  *ssh.Client
	sftp *sftp.Client
}

// RemoteFile is one entry of a report directory.
type RemoteFile struct {
	Name    string
	Path    string
	Kind    Kind
	Size    int64
	ModTime time.Time
}

// DialSFTP logs in to the SFTP server.
func DialSFTP(ctx context.Context, c SFTPConfig) (*Source, error) {
	hk := ssh.InsecureIgnoreHostKey() //nolint:gosec // documented: only when no host key is configured
	if c.HostKey != "" {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.HostKey))
		if err != nil {
			return nil, fmt.Errorf("host key: %w", err)
		}
		hk = ssh.FixedHostKey(pub)
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	d := net.Dialer{Timeout: c.Timeout}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to SFTP server %s: %w", c.Addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(c.Timeout))
	cc, chans, reqs, err := ssh.NewClientConn(conn, c.Addr, &ssh.ClientConfig{
		User: c.Username, Auth: []ssh.AuthMethod{ssh.Password(c.Password)}, HostKeyCallback: hk, Timeout: c.Timeout,
	})
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("SSH login to %s as %q: %w", c.Addr, c.Username, err)
	}
	_ = conn.SetDeadline(time.Time{})
	sc := ssh.NewClient(cc, chans, reqs)
	fc, err := sftp.NewClient(sc)
	if err != nil {
		_ = sc.Close()
		return nil, fmt.Errorf("SFTP subsystem on %s: %w", c.Addr, err)
	}
	return &Source{ssh: sc, sftp: fc}, nil
}

// Close ends the session.
func (s *Source) Close() error {
	err := s.sftp.Close()
	if cerr := s.ssh.Close(); err == nil {
		err = cerr
	}
	return err
}

// Days lists the day directories (YYYYMMDD) under root, oldest first. A
// missing root is no days.
func (s *Source) Days(root string) ([]Day, error) {
	ents, err := s.sftp.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	var out []Day
	for _, e := range ents {
		if d, err := ParseDay(e.Name()); err == nil && e.IsDir() {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Reports lists the report files of a directory, by name; a missing
// directory is none.
func (s *Source) Reports(dir string) ([]RemoteFile, error) {
	ents, err := s.sftp.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []RemoteFile
	for _, e := range ents {
		if k := KindOf(e.Name()); k != "" && !e.IsDir() {
			out = append(out, RemoteFile{Name: e.Name(), Path: path.Join(dir, e.Name()), Kind: k, Size: e.Size(), ModTime: e.ModTime()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Open opens a report for streaming.
func (s *Source) Open(p string) (io.ReadCloser, error) {
	f, err := s.sftp.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	return f, nil
}
