{{/* Helpers shared by every template of the levibot chart. */}}

{{- define "levibot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "levibot.fullname" -}}
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

{{- define "levibot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "levibot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: levibot
{{- end -}}

{{- define "levibot.operatorSelector" -}}
app.kubernetes.io/name: {{ include "levibot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "levibot.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- printf "%s/%s:%s" $root.Values.images.registry $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{- define "levibot.saName" -}}
{{- $root := index . 0 -}}
{{- $which := index . 1 -}}
{{- $sa := index $root.Values.serviceAccounts $which -}}
{{- if $sa.name -}}{{ $sa.name }}{{- else -}}{{ printf "%s-%s" (include "levibot.fullname" $root) $which | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "levibot.webhookSecret" -}}
{{- default (printf "%s-webhook" (include "levibot.fullname" .)) .Values.webhook.existingSecret -}}
{{- end -}}

{{- define "levibot.leaseName" -}}
{{- default (printf "%s-operator" (include "levibot.fullname" .)) .Values.operator.leaderElection.leaseName -}}
{{- end -}}

{{/* true when the optional feature is on: "auto" follows the API's presence. */}}
{{- define "levibot.enabled" -}}
{{- $root := index . 0 -}}
{{- $setting := index . 1 -}}
{{- $api := index . 2 -}}
{{- if eq (toString $setting) "auto" -}}
{{- if $root.Capabilities.APIVersions.Has $api -}}true{{- end -}}
{{- else if $setting -}}true{{- end -}}
{{- end -}}
