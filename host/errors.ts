// Short reasons for the module's error codes (assembly/errors.ts owns codes and statuses; this list
// is indexed by code, append-only like that table; test/errors.test.ts checks they stay in step).
export const REASONS: readonly string[] = [
  'none', 'bad_method', 'method_too_long', 'bad_target', 'bad_percent_escape', 'fragment_in_target',
  'userinfo_in_authority', 'target_form_not_allowed', 'uri_too_long', 'bad_version',
  'version_not_supported', 'bare_cr', 'bare_lf', 'obs_fold', 'bad_field_name', 'space_before_colon',
  'bad_field_value', 'too_many_fields', 'fields_too_large', 'host_missing', 'host_duplicate',
  'host_invalid', 'content_length_invalid', 'content_length_duplicate', 'te_with_content_length',
  'te_in_http10', 'te_chunked_not_final', 'te_coding_not_implemented', 'body_too_large',
  'chunk_size_invalid', 'chunk_ext_invalid', 'chunk_ext_too_long', 'chunk_data_unterminated',
  'too_many_empty_lines', 'parse_timeout', 'request_timeout', 'inactivity_timeout',
  'session_timeout', 'connection_limit', 'client_connection_limit', 'response_bad_status',
  'response_bad_field_name', 'response_bad_field_value', 'response_framing_field',
  'response_head_too_large', 'bad_slot', 'bad_config', 'connection_closed', 'client_banned',
  'rate_limited',
];

export function reasonOf(code: number): string {
  return REASONS[code] ?? `error_${code}`;
}
