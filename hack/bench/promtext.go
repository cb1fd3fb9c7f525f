package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// series is one sample of the Prometheus text exposition format.
type series struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// scrape is a parsed /metrics page, keyed by the series' identity.
type scrape map[string]series

// parseProm reads the Prometheus text format (version 0.0.4): comments and
// blank lines are skipped; each sample line is name{labels} value [timestamp].
func parseProm(text string) (scrape, error) {
	out := scrape{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[seriesKey(s.Name, s.Labels)] = s
	}
	return out, sc.Err()
}

func parseSample(line string) (series, error) {
	s := series{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.Name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if rest == "" {
				return s, fmt.Errorf("unterminated labels")
			}
			if rest[0] == '}' {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return s, fmt.Errorf("bad label")
			}
			name := strings.TrimSpace(rest[:eq])
			rest = rest[eq+2:]
			var b strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						b.WriteByte('\n')
					default:
						b.WriteByte(rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value")
			}
			s.Labels[name] = b.String()
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, err
	}
	s.Value = v
	return s, nil
}

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("|" + k + "=" + labels[k])
	}
	return b.String()
}

// delta returns after − before per series (counters; a series missing
// before counts from zero).
func delta(before, after scrape) scrape {
	out := scrape{}
	for k, a := range after {
		d := a
		d.Value -= before[k].Value
		out[k] = d
	}
	return out
}

// sum adds the series named name that match.
func (s scrape) sum(name string, match func(map[string]string) bool) float64 {
	t := 0.0
	for _, x := range s {
		if x.Name == name && (match == nil || match(x.Labels)) {
			t += x.Value
		}
	}
	return t
}

// by adds the series named name that match, grouped by the label values
// of labels (joined with "/").
func (s scrape) by(name string, match func(map[string]string) bool, labels ...string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		if x.Name != name || (match != nil && !match(x.Labels)) {
			continue
		}
		parts := make([]string, len(labels))
		for i, l := range labels {
			parts[i] = x.Labels[l]
		}
		out[strings.Join(parts, "/")] += x.Value
	}
	return out
}

// get returns the single value of name (0 when absent).
func (s scrape) get(name string) float64 { return s.sum(name, nil) }

func fetchText(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(b), nil
}

func scrapeURL(ctx context.Context, u string) (scrape, error) {
	t, err := fetchText(ctx, u)
	if err != nil {
		return nil, err
	}
	return parseProm(t)
}
