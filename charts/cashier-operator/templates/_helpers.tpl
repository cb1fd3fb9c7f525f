{{/* Chart name, truncated to 63 characters. */}}
{{- define "cashier-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; the release name when it already contains the chart name. */}}
{{- define "cashier-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cashier-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "cashier-operator.labels" -}}
helm.sh/chart: {{ include "cashier-operator.chart" . }}
app.kubernetes.io/name: {{ include "cashier-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cashier-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "manager"). */}}
{{- define "cashier-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cashier-operator.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component. */}}
{{- define "cashier-operator.componentLabels" -}}
{{ include "cashier-operator.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "cashier-operator.manager.fullname" -}}
{{- printf "%s-manager" (include "cashier-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cashier-operator.receiver.fullname" -}}
{{- printf "%s-notification-receiver" (include "cashier-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cashier-operator.manager.serviceAccountName" -}}
{{- if .Values.manager.serviceAccount.create }}
{{- default (include "cashier-operator.manager.fullname" .) .Values.manager.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.manager.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cashier-operator.receiver.serviceAccountName" -}}
{{- if .Values.receiver.serviceAccount.create }}
{{- default (include "cashier-operator.receiver.fullname" .) .Values.receiver.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.receiver.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference: repository:tag or repository@digest. */}}
{{- define "cashier-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Port of the receiver's Service. */}}
{{- define "cashier-operator.receiver.servicePort" -}}
{{- if .Values.receiver.service.port }}{{ .Values.receiver.service.port }}{{ else if .Values.receiver.tls.enabled }}443{{ else }}80{{ end }}
{{- end }}

{{/* Name of the Secret the chart creates for inline credentials of a GatewayConfig. */}}
{{- define "cashier-operator.gatewaySecretName" -}}
{{- printf "%s-gateway-%s" (include "cashier-operator.fullname" .ctx) .gw.name | trunc 253 | trimSuffix "-" }}
{{- end }}

{{/*
The credentials Secrets of the GatewayConfigs, as YAML: namespace -> sorted
list of Secret names. From .Values.gatewayConfigs (existing or chart-made
Secrets) and .Values.rbac.credentialSecrets (GatewayConfigs made outside the
chart). The notification-receiver may read exactly these Secrets.
*/}}
{{- define "cashier-operator.credentialSecrets" -}}
{{- $byNS := dict }}
{{- range $gw := .Values.gatewayConfigs }}
{{- $c := $gw.credentials }}
{{- $name := $c.existingSecret }}
{{- if not $name }}
{{- $name = include "cashier-operator.gatewaySecretName" (dict "ctx" $ "gw" $gw) }}
{{- end }}
{{- $ns := default $.Release.Namespace $c.namespace }}
{{- $_ := set $byNS $ns (append (get $byNS $ns | default list) $name) }}
{{- end }}
{{- range .Values.rbac.credentialSecrets }}
{{- $ns := default $.Release.Namespace .namespace }}
{{- $_ := set $byNS $ns (append (get $byNS $ns | default list) .name) }}
{{- end }}
{{- range $ns, $names := $byNS }}
{{- $_ := set $byNS $ns ($names | uniq | sortAlpha) }}
{{- end }}
{{- toYaml $byNS }}
{{- end }}

{{/*
Egress both components need: the API server and cluster DNS. The API server's
address is not known to the chart, so its ports are opened to any address.
Argument: .Values.networkPolicy.
*/}}
{{- define "cashier-operator.networkPolicy.baseEgress" -}}
- ports:
  {{- range .apiServerPorts }}
  - protocol: TCP
    port: {{ . }}
  {{- end }}
- to:
  - namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: kube-system
    podSelector:
      matchLabels:
        k8s-app: kube-dns
  ports:
  - protocol: UDP
    port: 53
  - protocol: TCP
    port: 53
{{- end }}
