package gatewaysim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// The SFTP server: a real SSH server (golang.org/x/crypto/ssh) with the
// sftp subsystem (github.com/pkg/sftp), read-only, password login per
// merchant. A merchant sees /v1/settlements/<its client id>/<day>/ only.

type sftpUser struct {
	password string
	clientID string
}

// SetSFTPUser creates or replaces the SFTP login of a merchant.
func (s *Simulator) SetSFTPUser(clientID, username, password string) error {
	if clientID == "" || username == "" || password == "" {
		return fmt.Errorf("%w: client id, username and password are required", ErrInvalidInput)
	}
	if s.merchant(clientID) == nil {
		return fmt.Errorf("%w: client id %q", ErrUnknownClient, clientID)
	}
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	s.rep.users[username] = sftpUser{password: password, clientID: clientID}
	return nil
}

type sftpServer struct {
	ln      net.Listener
	cfg     *ssh.ServerConfig
	hostKey ssh.PublicKey
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
}

// StartSFTP serves the reports over SFTP on addr ("127.0.0.1:0") and
// returns the address it listens on. The host key is made here (ed25519);
// SFTPHostKey returns it for clients to pin.
func (s *Simulator) StartSFTP(addr string) (string, error) {
	r := s.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return r.srv.ln.Addr().String(), nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return "", err
	}
	cfg := &ssh.ServerConfig{PasswordCallback: r.checkPassword, ServerVersion: "SSH-2.0-alipay-sim"}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sftp listen %s: %w", addr, err)
	}
	srv := &sftpServer{ln: ln, cfg: cfg, hostKey: signer.PublicKey(), conns: map[net.Conn]struct{}{}}
	r.srv = srv
	srv.wg.Add(1)
	go srv.accept(r)
	return ln.Addr().String(), nil
}

// SFTPHostKey is the SFTP server's host key in authorized_keys form ("" if
// the server is not started).
func (s *Simulator) SFTPHostKey() string {
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	if s.rep.srv == nil {
		return ""
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.rep.srv.hostKey)))
}

// StopSFTP closes the SFTP server and its connections (a test's "SFTP is
// down"); StartSFTP starts it again with a new host key.
func (s *Simulator) StopSFTP() {
	s.rep.mu.Lock()
	srv := s.rep.srv
	s.rep.srv = nil
	s.rep.mu.Unlock()
	if srv != nil {
		srv.close()
	}
}

func (r *reports) close() { r.s.StopSFTP() }

func (r *reports) checkPassword(c ssh.ConnMetadata, pass []byte) (*ssh.Permissions, error) {
	r.mu.Lock()
	u, ok := r.users[c.User()]
	r.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(u.password), pass) != 1 {
		return nil, errors.New("wrong username or password")
	}
	return &ssh.Permissions{Extensions: map[string]string{"clientId": u.clientID}}, nil
}

func (srv *sftpServer) close() {
	srv.mu.Lock()
	srv.closed = true
	_ = srv.ln.Close()
	for c := range srv.conns {
		_ = c.Close()
	}
	srv.mu.Unlock()
	srv.wg.Wait()
}

func (srv *sftpServer) accept(r *reports) {
	defer srv.wg.Done()
	for {
		c, err := srv.ln.Accept()
		if err != nil {
			return
		}
		srv.mu.Lock()
		if srv.closed {
			srv.mu.Unlock()
			_ = c.Close()
			return
		}
		srv.conns[c] = struct{}{}
		srv.wg.Add(1)
		srv.mu.Unlock()
		go func() {
			defer srv.wg.Done()
			srv.serve(r, c)
			srv.mu.Lock()
			delete(srv.conns, c)
			srv.mu.Unlock()
		}()
	}
}

func (srv *sftpServer) serve(r *reports, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, srv.cfg)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range chReqs {
				ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
				_ = req.Reply(ok, nil)
				if ok {
					fs := &reportFS{r: r, clientID: sc.Permissions.Extensions["clientId"]}
					h := sftp.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs}
					_ = sftp.NewRequestServer(ch, h).Serve()
					_ = ch.Close()
				}
			}
		}()
	}
}

// reportFS is the read-only file tree one merchant sees.
type reportFS struct {
	r        *reports
	clientID string
}

type fileInfo struct {
	name  string
	size  int64
	mod   time.Time
	isDir bool
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) IsDir() bool        { return f.isDir }
func (f fileInfo) Sys() any           { return nil }
func (f fileInfo) Mode() os.FileMode {
	if f.isDir {
		return os.ModeDir | 0o555
	}
	return 0o444
}

type listing []os.FileInfo

func (l listing) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

// lookup returns the entries of a directory, or the file itself.
func (fs *reportFS) lookup(p string) (dir []os.FileInfo, file *reportFile, err error) {
	p = path.Clean("/" + p)
	m := fs.r.s.merchant(fs.clientID)
	if m == nil {
		return nil, nil, sftp.ErrSSHFxNoSuchFile
	}
	root := "/v1/settlements/" + fs.clientID
	dirOf := func(names ...string) []os.FileInfo {
		out := make([]os.FileInfo, len(names))
		for i, n := range names {
			out[i] = fileInfo{name: n, isDir: true, mod: fs.r.s.clock.Now()}
		}
		return out
	}
	switch {
	case p == "/":
		return dirOf("v1"), nil, nil
	case p == "/v1":
		return dirOf("settlements"), nil, nil
	case p == "/v1/settlements":
		return dirOf(fs.clientID), nil, nil
	case p == root:
		var names []string
		for _, d := range fs.r.days() {
			names = append(names, string(d))
		}
		return dirOf(names...), nil, nil
	case !strings.HasPrefix(p, root+"/"):
		return nil, nil, sftp.ErrSSHFxNoSuchFile
	}
	rest := strings.Split(strings.TrimPrefix(p, root+"/"), "/")
	d, err := settlement.ParseDay(rest[0])
	if err != nil || len(rest) > 2 {
		return nil, nil, sftp.ErrSSHFxNoSuchFile
	}
	files, err := fs.r.dayFiles(m, d)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) == 1 {
		if len(files) == 0 && !containsDay(fs.r.days(), d) {
			return nil, nil, sftp.ErrSSHFxNoSuchFile
		}
		out := make([]os.FileInfo, len(files))
		for i, f := range files {
			out[i] = fileInfo{name: f.name, size: int64(len(f.content)), mod: f.modTime}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
		return out, nil, nil
	}
	for i := range files {
		if files[i].name == rest[1] {
			return nil, &files[i], nil
		}
	}
	return nil, nil, sftp.ErrSSHFxNoSuchFile
}

func containsDay(days []settlement.Day, d settlement.Day) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

func (fs *reportFS) Fileread(req *sftp.Request) (io.ReaderAt, error) {
	_, f, err := fs.lookup(req.Filepath)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, sftp.ErrSSHFxFailure
	}
	return bytes.NewReader(f.content), nil
}

func (fs *reportFS) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (fs *reportFS) Filecmd(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

func (fs *reportFS) Filelist(req *sftp.Request) (sftp.ListerAt, error) {
	dir, f, err := fs.lookup(req.Filepath)
	if err != nil {
		return nil, err
	}
	switch req.Method {
	case "List":
		if f != nil {
			return nil, sftp.ErrSSHFxFailure
		}
		return listing(dir), nil
	case "Stat":
		if f != nil {
			return listing{fileInfo{name: f.name, size: int64(len(f.content)), mod: f.modTime}}, nil
		}
		return listing{fileInfo{name: path.Base(req.Filepath), isDir: true, mod: fs.r.s.clock.Now()}}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}
