{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "sealgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release name, plus the chart name unless it already contains it. */}}
{{- define "sealgate.fullname" -}}
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

{{- define "sealgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sealgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sealgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "sealgate.labels" -}}
helm.sh/chart: {{ include "sealgate.chart" . }}
{{ include "sealgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sealgate
{{- end }}

{{- define "sealgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sealgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sealgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Secret holding tls.crt / tls.key (and ca.crt) for the serving certificate. */}}
{{- define "sealgate.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "existing" }}
{{- required "certificates.existing.secretName is required when certificates.mode=existing" .Values.certificates.existing.secretName }}
{{- else }}
{{- printf "%s-tls" (include "sealgate.fullname" .) }}
{{- end }}
{{- end }}

{{- define "sealgate.policiesConfigMapName" -}}
{{- default (printf "%s-policies" (include "sealgate.fullname" .)) .Values.policies.existingConfigMap }}
{{- end }}

{{/* cert-manager Certificate whose CA is injected into the webhooks. */}}
{{- define "sealgate.certManagerCertificate" -}}
{{- printf "%s/%s-serving-cert" .Release.Namespace (include "sealgate.fullname" .) }}
{{- end }}

{{/*
Webhook namespaceSelector: the user's selector plus a NotIn on the excluded
namespaces, which always include the release namespace (so sealgate never
admits its own pods).
*/}}
{{- define "sealgate.namespaceSelector" -}}
{{- $sel := deepCopy (default dict .Values.webhook.namespaceSelector) }}
{{- $excluded := uniq (append (default list .Values.webhook.excludedNamespaces) .Release.Namespace) }}
{{- $exprs := append (default list $sel.matchExpressions) (dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" $excluded) }}
{{- $_ := set $sel "matchExpressions" $exprs }}
{{- toYaml $sel }}
{{- end }}

{{/* One webhook entry; call with (dict "root" $ "name" ... "path" ... "caBundle" ... "mutating" bool). */}}
{{- define "sealgate.webhook" -}}
{{- $root := .root -}}
- name: {{ .name }}
  admissionReviewVersions: ["v1", "v1beta1"]
  sideEffects: None
  timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
  failurePolicy: {{ $root.Values.webhook.failurePolicy }}
  matchPolicy: Equivalent
  {{- if .mutating }}
  reinvocationPolicy: IfNeeded
  {{- end }}
  clientConfig:
    service:
      name: {{ include "sealgate.fullname" $root }}
      namespace: {{ $root.Release.Namespace }}
      path: {{ .path }}
      port: {{ $root.Values.service.port }}
    {{- if .caBundle }}
    caBundle: {{ .caBundle }}
    {{- end }}
  namespaceSelector:
    {{- include "sealgate.namespaceSelector" $root | nindent 4 }}
  {{- with $root.Values.webhook.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- toYaml $root.Values.webhook.rules | nindent 4 }}
{{- end }}
