package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/settlement"
)

// reconcile shows a SettlementReconciliation of the demo's own payments:
// the simulator's clock moves two days on so that the day's transaction
// details and its T+1 settlement batches are published on its SFTP server,
// the operator reads them and matches every line; then one amount is
// changed in the reports and the discrepancy shows.
func (s *system) reconcile(ctx context.Context) error {
	step("reconciliation: alipay-sim publishes its reports over SFTP; an SFTP login for the merchant")
	if err := postJSON(s.ls.SimURL+"/_sim/sftp/users", fmt.Sprintf(`{"clientId":%q,"username":"demo","password":"demo-sftp-password"}`, s.clientID)); err != nil {
		return err
	}
	var info struct{ Addr, HostKey string }
	if err := getJSON(s.ls.SimURL+"/_sim/sftp", &info); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(info.Addr)
	if err != nil {
		return fmt.Errorf("alipay-sim SFTP address %q: %w", info.Addr, err)
	}
	pn, _ := strconv.Atoi(port)
	step("the simulator's clock moves 2 days on: the day's transaction details and its T+1 settlement reports are out")
	if err := postJSON(s.ls.SimURL+"/_sim/clock/advance", `{"duration":"48h"}`); err != nil {
		return err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "antom-sftp", Namespace: ns}, StringData: map[string]string{
		v1.SecretKeySFTPUsername: "demo", v1.SecretKeySFTPPassword: "demo-sftp-password", v1.SecretKeySFTPHostKey: info.HostKey}}
	sr := &v1.SettlementReconciliation{ObjectMeta: metav1.ObjectMeta{Name: "daily", Namespace: ns},
		Spec: v1.SettlementReconciliationSpec{GatewayRef: v1.GatewayReference{Name: s.gateway},
			SFTP: v1.SFTPSource{Host: host, Port: int32(pn), CredentialsSecretRef: v1.SecretReference{Name: sec.Name}},
			// Every 5s for the demo (default 24h).
			Interval: &metav1.Duration{Duration: 5 * time.Second}}}
	for _, o := range []client.Object{sec, sr} {
		if err := s.c.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s: %w", o.GetName(), err)
		}
	}
	fmt.Printf("    created Secret %s (username, password, hostKey) and SettlementReconciliation %s (sftp %s)\n", sec.Name, sr.Name, info.Addr)
	if err := s.waitRun(ctx, sr, time.Now(), func(st *v1.SettlementReconciliationStatus) bool { return st.Lines > 0 }); err != nil {
		return err
	}
	s.printReconciliation(sr)
	if sr.Status.DiscrepancyCount != 0 {
		return fmt.Errorf("the demo's own payments did not reconcile: %d discrepancies", sr.Status.DiscrepancyCount)
	}

	var p v1.Payment
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wallet-hk"}, &p); err != nil {
		return err
	}
	step("a discrepancy: the gateway's reports now say wallet-hk was HKD 80.00 (PUT /_sim/reports/transactions/%s)", p.Status.PaymentID)
	if err := putJSON(s.ls.SimURL+"/_sim/reports/transactions/"+p.Status.PaymentID, `{"amount":"80.00"}`); err != nil {
		return err
	}
	if err := s.waitRun(ctx, sr, time.Now(), func(st *v1.SettlementReconciliationStatus) bool { return st.DiscrepancyCount > 0 }); err != nil {
		return err
	}
	s.printReconciliation(sr)
	var cm corev1.ConfigMap
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: sr.Status.DiscrepanciesConfigMap}, &cm); err != nil {
		return err
	}
	fmt.Printf("\n$ kubectl get configmap %s -o jsonpath='{.data.%s}'\n%s", cm.Name, strings.ReplaceAll(settlement.DiscrepanciesKey, ".", `\.`),
		indent(cm.Data[settlement.DiscrepanciesKey]))
	return nil
}

// waitRun waits for a run that finished after since and satisfies cond.
func (s *system) waitRun(ctx context.Context, sr *v1.SettlementReconciliation, since time.Time, cond func(*v1.SettlementReconciliationStatus) bool) error {
	deadline := time.Now().Add(time.Minute)
	for {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(sr), sr); err != nil {
			return err
		}
		st := &sr.Status
		if st.LastRunTime != nil && !st.LastRunTime.Time.Before(since.Truncate(time.Second)) && cond(st) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r := meta.FindStatusCondition(st.Conditions, v1.ConditionReady)
			return fmt.Errorf("the reconciliation did not finish: ready=%+v", r)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (s *system) printReconciliation(sr *v1.SettlementReconciliation) {
	fmt.Print("\n$ kubectl get settlementreconciliations\n" + indent(mustOut(s.ls.KubectlRun("get", "settlementreconciliations", "-n", ns))))
	fmt.Println()
	for _, d := range sr.Status.Days {
		c := d.Discrepancies
		disc := "none"
		if c != (v1.DiscrepancyCounts{}) {
			disc = fmt.Sprintf("amount %d, currency %d, status %d, not in cluster %d, not in report %d",
				c.Amount, c.Currency, c.Status, c.NotInCluster, c.NotInReport)
		}
		fmt.Printf("    day %s: %d lines, %d matched, discrepancies: %s\n", d.Date, d.Lines, d.Matched, disc)
		for _, t := range d.Totals {
			fmt.Printf("        %s gross %s, refunds %s, fees %s, net %s\n", t.Currency, t.Gross, t.Refunds, t.Fees, t.Net)
		}
		if len(d.SettlementBatchIDs) > 0 {
			fmt.Printf("        settlement batches %s\n", strings.Join(d.SettlementBatchIDs, ", "))
		}
	}
	for _, t := range []string{v1.ConditionReady, v1.ConditionDiscrepancies} {
		if c := meta.FindStatusCondition(sr.Status.Conditions, t); c != nil {
			fmt.Printf("    %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
		}
	}
}

func postJSON(u, body string) error {
	resp, err := http.Post(u, "application/json", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
