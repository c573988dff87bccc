{{/*
The alert rule groups, rendered into the PrometheusRule (prometheusrule.yaml) and, on request,
into a plain rule-file ConfigMap. Every alert carries namespace, modeldeployment (from the metric's
model label), version, track and severity: the operator's webhook finds its target by them.
*/}}

{{/* One alert. Args: root, name, rule values, inner PromQL (keeps namespace/model/version), summary, description. */}}
{{- define "levibot.alert" -}}
{{- $root := index . 0 -}}
{{- $rule := index . 2 -}}
- alert: {{ index . 1 }}
  expr: |-
    label_replace(
      {{ index . 3 | nindent 6 | trim }},
      "modeldeployment", "$1", "model", "(.*)"
    )
  for: {{ $rule.for }}
  labels:
    severity: {{ $rule.severity }}
    {{- range $k, $v := $root.Values.prometheusRule.alertLabels }}
    {{ $k }}: {{ $v | quote }}
    {{- end }}
  annotations:
    summary: {{ index . 4 | quote }}
    description: {{ index . 5 | quote }}
{{- end -}}

{{- define "levibot.ruleGroups" -}}
{{- $r := .Values.prometheusRule.rules -}}
{{- $w := .Values.prometheusRule.rateWindow -}}
{{- $by := "namespace, model, version, track" -}}
{{- $who := `{{ $labels.namespace }}/{{ $labels.modeldeployment }} {{ $labels.version }} ({{ $labels.track }})` -}}
groups:
  - name: levibot.model-quality
    interval: {{ .Values.prometheusRule.interval }}
    rules:
      {{- range $key, $name := dict "eceWarning" "LevibotCalibrationECEWarning" "eceCritical" "LevibotCalibrationECECritical" }}
      {{- $rule := index $r $key }}
      {{- if $rule.enabled }}
      {{- $expr := printf "max by (%s) (levibot_model_ece) > %v\nand on (%s)\nmax by (%s) (levibot_resolved_predictions) >= %v" $by $rule.threshold $by $by $r.eceMinResolved }}
      {{- include "levibot.alert" (list $ $name $rule $expr (printf "%s: ECE above %v" $who $rule.threshold) `Expected calibration error is {{ $value | printf "%.4f" }} over the resolved predictions of the rolling window.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- with $r.driftScore }}
      {{- if .enabled }}
      {{- /* score = statistic / the version's threshold, calibrated by the trainer for the MD's false-alarm rate with this rule's `for` (spec.serving.monitoring.driftAlertForSeconds) */}}
      {{- $expr := printf "max by (%s, feature, statistic) (levibot_feature_drift_score) > %v" $by .threshold }}
      {{- include "levibot.alert" (list $ "LevibotFeatureDriftScore" . $expr (printf "%s: drift on {{ $labels.feature }} ({{ $labels.statistic }}) beyond its calibrated threshold" $who) `Drift score of {{ $labels.feature }} ({{ $labels.statistic }}) is {{ $value | printf "%.2f" }}: the statistic over the threshold calibrated on the version's training period for the target false-alarm rate.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- range $key, $name := dict "psiWarning" "LevibotFeatureDriftPSIWarning" "psiCritical" "LevibotFeatureDriftPSICritical" }}
      {{- $rule := index $r $key }}
      {{- if $rule.enabled }}
      {{- $expr := printf "max by (%s, feature) (levibot_feature_psi) > %v" $by $rule.threshold }}
      {{- include "levibot.alert" (list $ $name $rule $expr (printf "%s: PSI drift on {{ $labels.feature }} above %v" $who $rule.threshold) `Population stability index of {{ $labels.feature }} is {{ $value | printf "%.3f" }} against the training reference.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- with $r.ksPValue }}
      {{- if .enabled }}
      {{- $expr := printf "min by (%s, feature) (levibot_feature_ks_pvalue) < %v" $by .threshold }}
      {{- include "levibot.alert" (list $ "LevibotFeatureDriftKS" . $expr (printf "%s: KS drift on {{ $labels.feature }} (p < %v)" $who .threshold) `Kolmogorov-Smirnov p-value of {{ $labels.feature }} is {{ $value | printf "%.4f" }}: served rows no longer look like the training data.`) | nindent 6 }}
      {{- end }}
      {{- end }}
  - name: levibot.serving
    interval: {{ .Values.prometheusRule.interval }}
    rules:
      {{- with $r.latencyP95 }}
      {{- if .enabled }}
      {{- $expr := printf "histogram_quantile(0.95,\n  sum by (%s, le) (rate(levibot_model_latency_seconds_bucket[%s]))\n) > %v" $by $w .threshold }}
      {{- include "levibot.alert" (list $ "LevibotLatencyP95High" . $expr (printf "%s: p95 prediction latency above %vs" $who .threshold) `p95 latency is {{ $value | humanizeDuration }}.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- with $r.errorRate }}
      {{- if .enabled }}
      {{- /* server faults only: client errors are neither counted nor in the denominator */}}
      {{- $expr := printf "sum by (%s) (rate(levibot_model_errors_total[%s]))\n/\nsum by (%s) (rate(levibot_predict_requests_total{endpoint!=\"other\",status!~\"4..\"}[%s])) > %v" $by $w $by $w .threshold }}
      {{- include "levibot.alert" (list $ "LevibotErrorRateHigh" . $expr (printf "%s: prediction error rate above %v" $who .threshold) `{{ $value | humanizePercentage }} of prediction requests fail.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- with $r.fallbackRate }}
      {{- if .enabled }}
      {{- $expr := printf "sum by (%s) (rate(levibot_fallback_events_total[%s]))\n/\nsum by (%s) (rate(levibot_predict_requests_total[%s])) > %v" $by $w $by $w .threshold }}
      {{- include "levibot.alert" (list $ "LevibotFallbackRateHigh" . $expr (printf "%s: fallback rate above %v" $who .threshold) `{{ $value | humanizePercentage }} of predictions fall back (stale data or model error).`) | nindent 6 }}
      {{- end }}
      {{- end }}
  - name: levibot.market-data
    interval: {{ .Values.prometheusRule.interval }}
    rules:
      {{- range $key, $name := dict "stalenessWarning" "LevibotDataStaleWarning" "stalenessCritical" "LevibotDataStaleCritical" }}
      {{- $rule := index $r $key }}
      {{- if $rule.enabled }}
      {{- $expr := printf "max by (%s, symbol) (levibot_features_staleness_seconds) > %v" $by $rule.threshold }}
      {{- include "levibot.alert" (list $ $name $rule $expr (printf "%s: market data for {{ $labels.symbol }} older than %vs" $who $rule.threshold) `The newest price of {{ $labels.symbol }} is {{ $value | humanizeDuration }} old; predictions fall back.`) | nindent 6 }}
      {{- end }}
      {{- end }}
      {{- with $r.tickRate }}
      {{- if .enabled }}
      {{- $expr := printf "min by (%s, symbol) (levibot_market_ticks_per_minute) < %v" $by .threshold }}
      {{- include "levibot.alert" (list $ "LevibotTickRateLow" . $expr (printf "%s: fewer than %v ticks/min for {{ $labels.symbol }}" $who .threshold) `{{ $labels.symbol }} receives {{ $value }} ticks per minute.`) | nindent 6 }}
      {{- end }}
      {{- end }}
  {{- with $r.circuitBreaker }}
  {{- if .enabled }}
  {{- /* the operator's gauge: 1 while a breaker (spec.circuitBreakers) holds the kill-switch on */}}
  - name: levibot.trading
    interval: {{ $.Values.prometheusRule.interval }}
    rules:
      {{- $expr := printf "max by (%s, breaker) (levibot_circuit_breaker_tripped) == 1" $by }}
      {{- include "levibot.alert" (list $ "LevibotCircuitBreakerTripped" . $expr (printf "%s: circuit breaker {{ $labels.breaker }} tripped" $who) `The {{ $labels.breaker }} breaker tripped on the version's paper trades: every answer is HOLD until it is reset (kubectl levibot reset-breaker) or its cool-down ends with the condition cleared.`) | nindent 6 }}
  {{- end }}
  {{- end }}
{{- end -}}
