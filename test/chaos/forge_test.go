package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// realNotif is a notification the simulator delivered and the receiver
// acknowledged.
type realNotif struct {
	kind string // notifyPayment, notifyCapture, notifyRefund
	path string // the signed path: /notify/<kind>/<ns>/<name>
	body []byte // the exact bytes
}

// pickNotifications takes up to n delivered notifications about distinct
// objects, alternating between the kinds.
func pickNotifications(all []gatewaysim.Notification, n int) []realNotif {
	byKind := map[string][]realNotif{}
	seen := map[string]bool{}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, x := range all {
		if x.State != gatewaysim.NotificationDelivered {
			continue
		}
		u, err := url.Parse(x.URL)
		if err != nil || !(strings.HasPrefix(u.Path, "/notify/payment/") || strings.HasPrefix(u.Path, "/notify/refund/")) {
			continue
		}
		key := x.Kind + " " + u.Path + " " + x.RequestID
		if seen[key] {
			continue
		}
		seen[key] = true
		// The control API indents its JSON, the notification bodies
		// included; compacting gives back the bytes the gateway sent.
		var body bytes.Buffer
		if err := json.Compact(&body, x.Body); err != nil {
			continue
		}
		byKind[x.Kind] = append(byKind[x.Kind], realNotif{kind: x.Kind, path: u.EscapedPath(), body: body.Bytes()})
	}
	var out []realNotif
	kinds := []string{gateway.KindNotifyPayment, gateway.KindNotifyCapture, gateway.KindNotifyRefund}
	for i := 0; len(out) < n; i++ {
		progressed := false
		for _, k := range kinds {
			if i < len(byKind[k]) && len(out) < n {
				// Spread over the list rather than taking the first few.
				l := byKind[k]
				out = append(out, l[(i*7919)%len(l)])
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	return out
}

// forgery is one request to the receiver.
type forgery struct {
	variant string
	method  string
	path    string
	header  http.Header
	body    []byte
	// want is the documented HTTP status (internal/receiver/doc.go); 200
	// only for the authentic control.
	want int
}

type forger struct {
	base     string // the receiver's URL
	clientID string
	gw       *rsa.PrivateKey // the gateway's key (read from the simulator's keys)
	evil     *rsa.PrivateKey // anyone else's
	hc       *http.Client
}

func (f *forger) signed(variant, path string, body []byte, key *rsa.PrivateKey, clientID, rt string, want int) forgery {
	sig, err := gateway.Sign(key, "1", http.MethodPost, path, clientID, rt, body)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
	h.Set(gateway.HeaderClientID, clientID)
	h.Set(gateway.HeaderRequestTime, rt)
	h.Set(gateway.HeaderSignature, sig)
	return forgery{variant: variant, method: http.MethodPost, path: path, header: h, body: body, want: want}
}

// with returns a copy of fg changed by fn.
func with(fg forgery, variant string, want int, fn func(*forgery)) forgery {
	c := fg
	c.variant, c.want = variant, want
	c.header = fg.header.Clone()
	c.body = append([]byte(nil), fg.body...)
	fn(&c)
	return c
}

// edit decodes a notification body, lets fn change it and encodes it again.
func edit(body []byte, fn func(m map[string]any)) []byte {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("notification body is not a JSON object: %v", err))
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}

// changeAmount adds one minor unit to the notification's amount.
func changeAmount(body []byte) []byte {
	return edit(body, func(m map[string]any) {
		for _, k := range []string{"paymentAmount", "captureAmount", "refundAmount"} {
			if a, ok := m[k].(map[string]any); ok {
				n, _ := strconv.ParseInt(fmt.Sprint(a["value"]), 10, 64)
				a["value"] = strconv.FormatInt(n+1, 10)
				return
			}
		}
		panic("notification without an amount")
	})
}

// flipStatus turns a success into a failure and the reverse.
func flipStatus(body []byte) []byte {
	return edit(body, func(m map[string]any) {
		r, _ := m["result"].(map[string]any)
		if r == nil {
			panic("notification without a result")
		}
		if r["resultStatus"] == "S" {
			r["resultStatus"], r["resultCode"] = "F", "PROCESS_FAIL"
		} else {
			r["resultStatus"], r["resultCode"] = "S", "SUCCESS"
		}
		if _, ok := m["refundStatus"]; ok {
			m["refundStatus"] = map[bool]string{true: "SUCCESS", false: "FAIL"}[r["resultStatus"] == "S"]
		}
	})
}

// unknownType gives the notification a notifyType no gateway sends.
func unknownType(body []byte) []byte {
	return edit(body, func(m map[string]any) { m["notifyType"] = "BOGUS_" + fmt.Sprint(m["notifyType"]) })
}

// variants forges n in every way the receiver must refuse. other is
// another object's route of the same kind, otherKind a route of the other
// kind (refund for payment routes and the reverse).
func (f *forger) variants(n realNotif, other, otherKind string) []forgery {
	now := time.Now()
	rt := gateway.FormatTime(now)
	auth := f.signed("authentic (control)", n.path, n.body, f.gw, f.clientID, rt, http.StatusOK)
	garbage := make([]byte, 256)
	_, _ = rand.Read(garbage)
	padded := append([]byte(`{"padding":"`+strings.Repeat("x", 70<<10)+`",`), n.body[1:]...)
	realSig, _ := gateway.ParseSignatureHeader(auth.header.Get(gateway.HeaderSignature))
	return []forgery{
		auth,
		with(auth, "garbage signature", 401, func(x *forgery) {
			x.header.Set(gateway.HeaderSignature, gateway.SignatureHeader{KeyVersion: "1", Signature: garbage}.String())
		}),
		f.signed("signed with another key", n.path, n.body, f.evil, f.clientID, rt, 401),
		with(auth, "amount tampered after signing", 401, func(x *forgery) { x.body = changeAmount(n.body) }),
		with(auth, "result flipped after signing", 401, func(x *forgery) { x.body = flipStatus(n.body) }),
		with(auth, "body extended after signing", 401, func(x *forgery) {
			x.body = append([]byte(`{"paymentId":"forged",`), n.body[1:]...)
		}),
		with(auth, "sent to another object's route", 401, func(x *forgery) { x.path = other }),
		f.signed("gateway-signed for another object's route", other, n.body, f.gw, f.clientID, rt, 422),
		f.signed("changed amount signed with another key", n.path, changeAmount(n.body), f.evil, f.clientID, rt, 401),
		f.signed("changed amount signed by the gateway (contradiction)", n.path, changeAmount(n.body), f.gw, f.clientID, rt, 422),
		f.signed("stale Request-Time", n.path, n.body, f.gw, f.clientID, gateway.FormatTime(now.Add(-time.Hour)), 401),
		f.signed("future Request-Time", n.path, n.body, f.gw, f.clientID, gateway.FormatTime(now.Add(time.Hour)), 401),
		f.signed("unparsable Request-Time", n.path, n.body, f.gw, f.clientID, "yesterday", 400),
		f.signed("unknown Client-Id", n.path, n.body, f.gw, "SANDBOX_FORGED0001", rt, 401),
		with(auth, "Client-Id swapped after signing", 401, func(x *forgery) { x.header.Set(gateway.HeaderClientID, "SANDBOX_FORGED0002") }),
		with(auth, "GET", 405, func(x *forgery) { x.method = http.MethodGet }),
		with(auth, "PUT", 405, func(x *forgery) { x.method = http.MethodPut }),
		with(auth, "text/plain", 415, func(x *forgery) { x.header.Set(gateway.HeaderContentType, "text/plain") }),
		with(auth, "charset ISO-8859-1", 415, func(x *forgery) {
			x.header.Set(gateway.HeaderContentType, "application/json; charset=ISO-8859-1")
		}),
		f.signed("oversize body", n.path, padded, f.gw, f.clientID, rt, 413),
		f.signed("truncated JSON", n.path, n.body[:len(n.body)/2], f.gw, f.clientID, rt, 400),
		with(auth, "no Signature header", 401, func(x *forgery) { x.header.Del(gateway.HeaderSignature) }),
		with(auth, "algorithm RSA512", 401, func(x *forgery) {
			x.header.Set(gateway.HeaderSignature, strings.Replace(realSig.String(), "algorithm=RSA256", "algorithm=RSA512", 1))
		}),
		f.signed("gateway-signed on a route of the other kind", otherKind, n.body, f.gw, f.clientID, rt, 400),
		f.signed("unknown notifyType", n.path, unknownType(n.body), f.gw, f.clientID, rt, 400),
		f.signed("default route, signed with another key", "/notify", n.body, f.evil, f.clientID, rt, 401),
		f.signed("not a notify route", "/notify/payment/"+strings.Split(n.path, "/")[3], n.body, f.gw, f.clientID, rt, 404),
	}
}

// send posts one request; acked is true only for the acknowledgement.
func (f *forger) send(ctx context.Context, fg forgery) (status int, acked bool, err error) {
	req, err := http.NewRequestWithContext(ctx, fg.method, f.base+fg.path, bytes.NewReader(fg.body))
	if err != nil {
		return 0, false, err
	}
	req.Header = fg.header.Clone()
	resp, err := f.hc.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.StatusCode == http.StatusOK && string(b) == gateway.NotificationAck, nil
}

// resourceVersions lists every object the receiver can write.
func resourceVersions(ctx context.Context, c client.Client, ns string) (map[string]string, error) {
	out := map[string]string{}
	lists := map[string]client.ObjectList{"Payment": &v1.PaymentList{}, "Capture": &v1.CaptureList{},
		"Refund": &v1.RefundList{}, "CustomsDeclaration": &v1.CustomsDeclarationList{}}
	for kind, l := range lists {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		switch t := l.(type) {
		case *v1.PaymentList:
			for _, o := range t.Items {
				out[kind+"/"+o.Name] = o.ResourceVersion
			}
		case *v1.CaptureList:
			for _, o := range t.Items {
				out[kind+"/"+o.Name] = o.ResourceVersion
			}
		case *v1.RefundList:
			for _, o := range t.Items {
				out[kind+"/"+o.Name] = o.ResourceVersion
			}
		case *v1.CustomsDeclarationList:
			for _, o := range t.Items {
				out[kind+"/"+o.Name] = o.ResourceVersion
			}
		}
	}
	return out, nil
}

func diffVersions(before, after map[string]string) []string {
	var d []string
	for k, v := range before {
		if after[k] != v {
			d = append(d, fmt.Sprintf("%s: resourceVersion %s → %s", k, v, after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			d = append(d, k+": appeared")
		}
	}
	sort.Strings(d)
	return d
}
