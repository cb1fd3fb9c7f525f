package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clkTck is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100
// on every Linux this runs on).
const clkTck = 100

// procSample is what /proc says about a process at one moment.
type procSample struct {
	CPUSeconds float64 // utime + stime
	HWMBytes   int64   // VmHWM: peak resident set
	RSSBytes   int64   // VmRSS: current resident set
}

func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: utime/stime", pid)
	}
	s.CPUSeconds = float64(ut+st) / clkTck
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmHWM":
			s.HWMBytes = kb * 1024
		case "VmRSS":
			s.RSSBytes = kb * 1024
		}
	}
	return s, nil
}

// findProc returns the pid of the process whose executable base name is
// exe and whose command line holds every one of args (0 when none).
func findProc(exe string, args ...string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(argv[0]) != exe {
			continue
		}
		all := true
		for _, a := range args {
			found := false
			for _, x := range argv[1:] {
				if x == a {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		if all {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// controlPlanePids finds this system's kube-apiserver (by its secure port)
// and etcd (by the client URL the apiserver uses).
func controlPlanePids(host string) (apiserver, etcd int) {
	u, err := url.Parse(host)
	if err != nil {
		return 0, 0
	}
	apiserver = findProc("kube-apiserver", "--secure-port="+u.Port())
	if apiserver == 0 {
		return 0, 0
	}
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", apiserver))
	for _, a := range strings.Split(string(raw), "\x00") {
		if v, ok := strings.CutPrefix(a, "--etcd-servers="); ok {
			etcd = findProc("etcd", "--listen-client-urls="+strings.Split(v, ",")[0])
		}
	}
	return apiserver, etcd
}

// procSet samples a fixed set of named processes.
type procSet struct {
	names []string
	pids  map[string]int
}

func (p *procSet) add(name string, pid int) {
	if pid <= 0 {
		return
	}
	if p.pids == nil {
		p.pids = map[string]int{}
	}
	p.names = append(p.names, name)
	p.pids[name] = pid
}

func (p *procSet) sample() map[string]procSample {
	out := map[string]procSample{}
	for _, n := range p.names {
		if s, err := readProc(p.pids[n]); err == nil {
			out[n] = s
		}
	}
	return out
}
