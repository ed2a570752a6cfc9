{{/*
Names, labels and the values derived from lokic's configuration, shared by
every template of the chart.
*/}}

{{/* The chart name, or nameOverride; at most 63 characters (a DNS label). */}}
{{- define "lokic.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The full name of the release's objects: fullnameOverride, or the release
name when it already holds the chart name, or "<release>-<chart>".
*/}}
{{- define "lokic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "lokic.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels every object of the chart carries. */}}
{{- define "lokic.commonLabels" -}}
helm.sh/chart: {{ include "lokic.chart" . }}
app.kubernetes.io/name: {{ include "lokic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "lokic.name" . }}
{{- end -}}

{{/*
Labels and selector labels of one component: call with
(dict "ctx" $ "component" "server").
*/}}
{{- define "lokic.componentLabels" -}}
{{ include "lokic.commonLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "lokic.componentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "lokic.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* lokic itself (the StatefulSet and its services). */}}
{{- define "lokic.labels" -}}
{{ include "lokic.componentLabels" (dict "ctx" . "component" "server") }}
{{- end -}}

{{- define "lokic.selectorLabels" -}}
{{ include "lokic.componentSelectorLabels" (dict "ctx" . "component" "server") }}
{{- end -}}

{{/* The ServiceAccount lokic runs as. */}}
{{- define "lokic.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lokic.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "lokic.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{/* The headless service (the StatefulSet's serviceName). */}}
{{- define "lokic.headlessName" -}}
{{- printf "%s-headless" (include "lokic.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{/*
lokic's config.yaml as it is stored: values.config rendered with tpl, so
that it may use template expressions. values.config is a YAML mapping (the
usual case: a loki.yaml pasted under "config:") or a string holding one.
*/}}
{{- define "lokic.config" -}}
{{- if not .Values.config -}}
{{- fail "config is empty: lokic needs its configuration in values.config (Loki's YAML)" -}}
{{- end -}}
{{- $text := "" -}}
{{- if kindIs "string" .Values.config -}}
{{- $text = tpl .Values.config . -}}
{{- else -}}
{{- $cfg := deepCopy .Values.config -}}
{{- if (.Values.rules).configMaps -}}
{{- /* the ruler reads the rule files the ConfigMaps mount */ -}}
{{- $ruler := default dict $cfg.ruler -}}
{{- $storage := dict "type" "local" "local" (dict "directory" .Values.rules.directory) -}}
{{- $_ := set $ruler "storage" $storage -}}
{{- $_ = set $cfg "ruler" $ruler -}}
{{- end -}}
{{- $text = tpl (toYaml $cfg) . -}}
{{- end -}}
{{- printf "%s\n" (trimSuffix "\n" $text) -}}
{{- end -}}

{{/* The name of the Secret or ConfigMap that holds config.yaml. */}}
{{- define "lokic.configName" -}}
{{- default (include "lokic.fullname" .) .Values.existingConfig -}}
{{- end -}}

{{/* Secret or ConfigMap, checked. */}}
{{- define "lokic.configStorageType" -}}
{{- $t := .Values.configStorageType | default "Secret" -}}
{{- if not (has $t (list "Secret" "ConfigMap")) -}}
{{- fail (printf "configStorageType must be Secret or ConfigMap, not %q" $t) -}}
{{- end -}}
{{- $t -}}
{{- end -}}

{{/*
The config the chart reads server.http_listen_port and auth_enabled from:
values.config, also when existingConfig holds the file lokic reads (keep
the two in step then).
*/}}
{{- define "lokic.knownConfig" -}}
{{- include "lokic.config" . -}}
{{- end -}}

{{/* server.http_listen_port of the config (Loki's default 3100). */}}
{{- define "lokic.httpPort" -}}
{{- $cfg := include "lokic.knownConfig" . | fromYaml -}}
{{- if hasKey $cfg "Error" -}}
{{- fail (printf "values.config is not valid YAML: %s" $cfg.Error) -}}
{{- end -}}
{{- dig "server" "http_listen_port" 3100 $cfg | int -}}
{{- end -}}

{{/* "true" when the config has auth_enabled (Loki's default: true). */}}
{{- define "lokic.authEnabled" -}}
{{- $cfg := include "lokic.knownConfig" . | fromYaml -}}
{{- if dig "auth_enabled" true $cfg -}}true{{- end -}}
{{- end -}}

{{/* The tenant clients send; required when auth is enabled. */}}
{{- define "lokic.tenant" -}}
{{- if include "lokic.authEnabled" . -}}
{{- required "tenantId is required when config.auth_enabled is true (promtail, Grafana and the helm test send it as X-Scope-OrgID)" .Values.tenantId -}}
{{- end -}}
{{- end -}}

{{/* lokic's base URL inside the cluster. */}}
{{- define "lokic.url" -}}
{{- printf "http://%s:%v" (include "lokic.fullname" .) .Values.service.port -}}
{{- end -}}

{{/* ---- promtail */}}
{{- define "lokic.promtail.fullname" -}}
{{- printf "%s-promtail" (include "lokic.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{- define "lokic.promtail.labels" -}}
{{ include "lokic.componentLabels" (dict "ctx" . "component" "promtail") }}
{{- end -}}

{{- define "lokic.promtail.selectorLabels" -}}
{{ include "lokic.componentSelectorLabels" (dict "ctx" . "component" "promtail") }}
{{- end -}}

{{- define "lokic.promtail.serviceAccountName" -}}
{{- if .Values.promtail.serviceAccount.create -}}
{{- default (include "lokic.promtail.fullname" .) .Values.promtail.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.promtail.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where promtail pushes: promtail.pushUrl, or lokic's push endpoint. */}}
{{- define "lokic.promtail.pushUrl" -}}
{{- default (printf "%s/loki/api/v1/push" (include "lokic.url" .)) .Values.promtail.pushUrl -}}
{{- end -}}

{{/* ---- alloy */}}
{{- define "lokic.alloy.fullname" -}}
{{- printf "%s-alloy" (include "lokic.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}

{{- define "lokic.alloy.labels" -}}
{{ include "lokic.componentLabels" (dict "ctx" . "component" "alloy") }}
{{- end -}}

{{- define "lokic.alloy.selectorLabels" -}}
{{ include "lokic.componentSelectorLabels" (dict "ctx" . "component" "alloy") }}
{{- end -}}

{{- define "lokic.alloy.serviceAccountName" -}}
{{- if .Values.alloy.serviceAccount.create -}}
{{- default (include "lokic.alloy.fullname" .) .Values.alloy.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.alloy.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where Alloy pushes: alloy.pushUrl, or lokic's push endpoint. */}}
{{- define "lokic.alloy.pushUrl" -}}
{{- default (printf "%s/loki/api/v1/push" (include "lokic.url" .)) .Values.alloy.pushUrl -}}
{{- end -}}

{{/*
Alloy and promtail both on would ship every line twice; refused unless
alloy.allowWithPromtail (a migration from one to the other).
*/}}
{{- define "lokic.agents.check" -}}
{{- if and .Values.alloy.enabled .Values.promtail.enabled (not .Values.alloy.allowWithPromtail) -}}
{{- fail "alloy.enabled and promtail.enabled are both true: both would push every line; turn one off (or set alloy.allowWithPromtail while migrating)" -}}
{{- end -}}
{{- if not (has .Values.alloy.gatherMethod (list "volumes" "kubernetesApi")) -}}
{{- fail "alloy.gatherMethod must be volumes or kubernetesApi" -}}
{{- end -}}
{{- end -}}

{{/* ---- grafana */}}
{{- define "lokic.grafana.fullname" -}}
{{- printf "%s-grafana" (include "lokic.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "lokic.grafana.labels" -}}
{{ include "lokic.componentLabels" (dict "ctx" . "component" "grafana") }}
{{- end -}}

{{- define "lokic.grafana.selectorLabels" -}}
{{ include "lokic.componentSelectorLabels" (dict "ctx" . "component" "grafana") }}
{{- end -}}

{{/* The Loki data source URL: grafana.datasource.url, or lokic's service. */}}
{{- define "lokic.grafana.datasourceUrl" -}}
{{- default (include "lokic.url" .) .Values.grafana.datasource.url -}}
{{- end -}}
