package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keys of the Secret named by SFTPSource.CredentialsSecretRef.
const (
	// SecretKeySFTPUsername holds the SFTP login the gateway issued.
	SecretKeySFTPUsername = "username"
	// SecretKeySFTPPassword holds its password.
	SecretKeySFTPPassword = "password"
	// SecretKeySFTPHostKey optionally holds the server's host key in
	// authorized_keys form ("ssh-ed25519 AAAA..."); when present the
	// connection is refused unless the server presents it.
	SecretKeySFTPHostKey = "hostKey"
)

// ReportKind names one of the gateway's reconciliation reports.
// +kubebuilder:validation:Enum=TransactionDetails;SettlementDetails;SettlementSummary
type ReportKind string

// Reconciliation reports.
const (
	ReportTransactionDetails ReportKind = "TransactionDetails"
	ReportSettlementDetails  ReportKind = "SettlementDetails"
	ReportSettlementSummary  ReportKind = "SettlementSummary"
)

// Discrepancy classes.
const (
	// DiscrepancyAmount: the report's amount differs from the object's.
	DiscrepancyAmount = "AmountMismatch"
	// DiscrepancyCurrency: the report's currency differs from the object's.
	DiscrepancyCurrency = "CurrencyMismatch"
	// DiscrepancyStatus: the report has the transaction done, the object's
	// phase says otherwise.
	DiscrepancyStatus = "StatusMismatch"
	// DiscrepancyNotInCluster: a report line matches no Payment, Capture or
	// Refund of the merchant in this namespace.
	DiscrepancyNotInCluster = "NotInCluster"
	// DiscrepancyNotInReport: an object that moved money on a day whose
	// report was read is in none of that day's reports.
	DiscrepancyNotInReport = "NotInReport"
)

// DiscrepancyClasses lists every class, in the order status shows them.
var DiscrepancyClasses = []string{DiscrepancyAmount, DiscrepancyCurrency, DiscrepancyStatus, DiscrepancyNotInCluster, DiscrepancyNotInReport}

// SFTPSource is where the gateway publishes the merchant's reports.
type SFTPSource struct {
	// Host of the gateway's SFTP server (Antom: isftp.alipay.com).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Host string `json:"host"`

	// Port of the SFTP server.
	// +kubebuilder:default=22
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// PathPattern is the directory of one day's reports; {customerId} and
	// {date} (YYYYMMDD) are replaced. The gateway's layout is the default.
	// +kubebuilder:default="/v1/settlements/{customerId}/{date}/"
	// +kubebuilder:validation:Pattern=`^/.*\{date\}.*$`
	// +optional
	PathPattern string `json:"pathPattern,omitempty"`

	// CredentialsSecretRef names a Secret in this namespace with the keys
	// username, password and, optionally, hostKey (the server's host key in
	// authorized_keys form; without it the host is not verified).
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
}

// SettlementReconciliationSpec says whose reports to read, where, and how
// often.
type SettlementReconciliationSpec struct {
	// GatewayRef names the GatewayConfig (the merchant) whose reports are
	// reconciled; every Payment of this namespace that references it, and
	// every Capture and Refund of those Payments, is compared.
	// +required
	GatewayRef GatewayReference `json:"gatewayRef"`

	// CustomerID is the merchant id in the report paths; default: the
	// GatewayConfig's client id (status.clientId).
	// +kubebuilder:validation:MaxLength=64
	// +optional
	CustomerID string `json:"customerId,omitempty"`

	// SFTP is the server the reports are read from.
	// +required
	SFTP SFTPSource `json:"sftp"`

	// Reports to reconcile; default all three.
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	// +optional
	Reports []ReportKind `json:"reports,omitempty"`

	// Interval between two runs (a run also follows any change of this
	// object). Default 24h.
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// LookbackDays is how many of the most recent day directories are
	// reconciled each run; the gateway keeps reports for 7 days.
	// +kubebuilder:default=7
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=31
	// +optional
	LookbackDays int32 `json:"lookbackDays,omitempty"`

	// SettlementDelayDays is N of the merchant's T+N settlement period: a
	// transaction of day T is expected in the settlement details of day
	// T+N. Default 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=30
	// +optional
	SettlementDelayDays int32 `json:"settlementDelayDays,omitempty"`
}

// ReportFileStatus is one file read for a day.
type ReportFileStatus struct {
	// Name of the file.
	Name string `json:"name"`
	// Kind of report.
	Kind ReportKind `json:"kind"`
	// SHA256 of the content; a file whose content was already counted
	// (a re-published or duplicated report) is listed but counted once.
	// +optional
	SHA256 string `json:"sha256,omitempty"`
	// Lines is the number of records in the file.
	// +optional
	Lines int32 `json:"lines,omitempty"`
	// DuplicateOf names the file with the same content that was counted.
	// +optional
	DuplicateOf string `json:"duplicateOf,omitempty"`
	// Error says why the file was refused (a truncated file is retried on
	// the next run).
	// +optional
	Error string `json:"error,omitempty"`
}

// DiscrepancyCounts counts discrepancies by class.
type DiscrepancyCounts struct {
	// Amount counts AmountMismatch.
	// +optional
	Amount int32 `json:"amount,omitempty"`
	// Currency counts CurrencyMismatch.
	// +optional
	Currency int32 `json:"currency,omitempty"`
	// Status counts StatusMismatch.
	// +optional
	Status int32 `json:"status,omitempty"`
	// NotInCluster counts report lines that match no object.
	// +optional
	NotInCluster int32 `json:"notInCluster,omitempty"`
	// NotInReport counts objects missing from the day's reports.
	// +optional
	NotInReport int32 `json:"notInReport,omitempty"`
}

// CurrencyTotals are one settlement currency's totals of a day, exact
// decimal strings in major units.
type CurrencyTotals struct {
	// Currency is the settlement currency.
	Currency string `json:"currency"`
	// Gross is what payments and captures settle.
	Gross string `json:"gross"`
	// Refunds is what refunds, cancellations and chargebacks take back
	// (zero or negative).
	Refunds string `json:"refunds"`
	// Fees is the gateway's fees (negative when charged).
	Fees string `json:"fees"`
	// Net is Gross + Refunds + Fees: what is paid out.
	Net string `json:"net"`
}

// ReconciliationDay is the result for one day directory.
type ReconciliationDay struct {
	// Date is the day (YYYYMMDD, at UTC+8): the transaction date of
	// transaction details, the settlement date of settlement reports.
	Date string `json:"date"`
	// Files read for the day.
	// +optional
	Files []ReportFileStatus `json:"files,omitempty"`
	// Lines is the number of report records counted (duplicates once).
	// +optional
	Lines int32 `json:"lines,omitempty"`
	// Matched is the number of records that matched an object exactly.
	// +optional
	Matched int32 `json:"matched,omitempty"`
	// Discrepancies by class.
	// +optional
	Discrepancies DiscrepancyCounts `json:"discrepancies,omitempty"`
	// Totals per settlement currency, from the settlement details when
	// read, else from the transaction details.
	// +optional
	Totals []CurrencyTotals `json:"totals,omitempty"`
	// SettlementBatchIDs are the batches settled on this day.
	// +optional
	SettlementBatchIDs []string `json:"settlementBatchIds,omitempty"`
}

// Discrepancy is one difference between a report and the cluster.
type Discrepancy struct {
	// Date is the day directory of the report.
	Date string `json:"date"`
	// Class is AmountMismatch, CurrencyMismatch, StatusMismatch,
	// NotInCluster or NotInReport.
	Class string `json:"class"`
	// Report is the kind of report.
	Report ReportKind `json:"report"`
	// TransactionType is the report's transactionType (or what was
	// expected, for NotInReport).
	// +optional
	TransactionType string `json:"transactionType,omitempty"`
	// TransactionID is the gateway's id of the transaction.
	// +optional
	TransactionID string `json:"transactionId,omitempty"`
	// Object is the object involved, kind/name ("" for NotInCluster).
	// +optional
	Object string `json:"object,omitempty"`
	// Message says what differs.
	Message string `json:"message"`
}

// SettlementReconciliationStatus is the result of the last run.
type SettlementReconciliationStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// CustomerID is the merchant id the reports were read for.
	// +optional
	CustomerID string `json:"customerId,omitempty"`
	// LastRunTime is when the last run finished.
	// +optional
	LastRunTime *metav1.Time `json:"lastRunTime,omitempty"`
	// NextRunTime is when the next run is due.
	// +optional
	NextRunTime *metav1.Time `json:"nextRunTime,omitempty"`
	// LastDay is the most recent day reconciled.
	// +optional
	LastDay string `json:"lastDay,omitempty"`
	// Lines is the number of report records counted over the days below.
	// +optional
	Lines int32 `json:"lines,omitempty"`
	// Matched is the number of those records that matched an object
	// exactly.
	// +optional
	Matched int32 `json:"matched,omitempty"`
	// DiscrepancyCount is the number of discrepancies over all days.
	// +optional
	DiscrepancyCount int32 `json:"discrepancyCount"`
	// Days are the days reconciled, most recent first.
	// +optional
	Days []ReconciliationDay `json:"days,omitempty"`
	// Discrepancies are the first 20; the full list is the CSV in the
	// ConfigMap named by DiscrepanciesConfigMap.
	// +optional
	Discrepancies []Discrepancy `json:"discrepancies,omitempty"`
	// DiscrepanciesConfigMap names the ConfigMap (this namespace, owned by
	// this object) whose key discrepancies.csv lists every discrepancy.
	// +optional
	DiscrepanciesConfigMap string `json:"discrepanciesConfigMap,omitempty"`
	// Conditions: Ready (the last run read every report it found; reasons
	// SFTPUnavailable, ReportTruncated, ReportInvalid, SecretInvalid,
	// GatewayNotReady) and
	// Discrepancies (True when any were found; the message has the count
	// and the first few).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SettlementReconciliation matches every line of the gateway's settlement
// reports to the Payments, Captures and Refunds of one merchant in its
// namespace, day by day.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=srec,categories=cashier
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.spec.gatewayRef.name`
// +kubebuilder:printcolumn:name="Last-Day",type=string,JSONPath=`.status.lastDay`
// +kubebuilder:printcolumn:name="Lines",type=integer,JSONPath=`.status.lines`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matched`
// +kubebuilder:printcolumn:name="Discrepancies",type=integer,JSONPath=`.status.discrepancyCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SettlementReconciliation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says whose reports to read, where, and how often.
	// +required
	Spec SettlementReconciliationSpec `json:"spec"`

	// Status is the result of the last run.
	// +optional
	Status SettlementReconciliationStatus `json:"status,omitempty"`
}

// SettlementReconciliationList is a list of SettlementReconciliations.
// +kubebuilder:object:root=true
type SettlementReconciliationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the SettlementReconciliations.
	Items []SettlementReconciliation `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SettlementReconciliation{}, &SettlementReconciliationList{})
}
