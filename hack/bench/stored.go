package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"k8s.io/client-go/rest"
)

// storedBytes is where the bytes of one finished Payment go, as the
// apiserver returns it in JSON (a custom resource is stored in etcd as this
// JSON): the whole object and its largest parts.
type storedBytes struct {
	Name  string
	Total int
	// Parts maps a path (metadata.managedFields, status.conditions, ...) to
	// its JSON size; the parts do not overlap.
	Parts map[string]int
}

// measureStored reads one payment as raw JSON and splits its size; with
// dump set it also writes the JSON there.
func measureStored(ctx context.Context, cfg *rest.Config, ns, name, dump string) (*storedBytes, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(cfg.Host, "/") + fmt.Sprintf("/apis/payments.cashier-operator.io/v1alpha1/namespaces/%s/payments/%s", ns, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode payment %s/%s: %w", ns, name, err)
	}
	compact, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if dump != "" {
		if err := os.WriteFile(dump, compact, 0o644); err != nil {
			return nil, err
		}
	}
	sb := &storedBytes{Name: ns + "/" + name, Total: len(compact), Parts: map[string]int{}}
	for key, val := range raw {
		switch key {
		case "metadata", "status":
			if err := splitInto(sb.Parts, key, val, map[string]bool{"managedFields": true, "conditions": true}); err != nil {
				return nil, err
			}
		default:
			sb.Parts[key] = len(val)
		}
	}
	return sb, nil
}

// splitInto records the named children of an object as their own parts and
// the rest under prefix.
func splitInto(parts map[string]int, prefix string, val json.RawMessage, own map[string]bool) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(val, &m); err != nil {
		return err
	}
	rest := map[string]json.RawMessage{}
	for k, v := range m {
		if own[k] {
			parts[prefix+"."+k] = len(v)
			continue
		}
		rest[k] = v
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return err
	}
	parts[prefix+" (the rest)"] = len(b)
	return nil
}

// String lists the parts, largest first.
func (s *storedBytes) String() string {
	keys := make([]string, 0, len(s.Parts))
	for k := range s.Parts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return s.Parts[keys[i]] > s.Parts[keys[j]] })
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, s.Parts[k])
	}
	return b.String()
}
