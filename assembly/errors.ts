// The one error table: code -> HTTP status. Append-only: codes are never renumbered, because hosts,
// logs and board firmware store them. Status 0 means "close without a response".
// host/errors.ts holds the short reason of each code; test/errors.test.ts checks the two agree.

@inline export const E_NONE: u32 = 0;
@inline export const E_BAD_METHOD: u32 = 1;      // 400 method is not a token or not followed by one SP
@inline export const E_METHOD_LONG: u32 = 2;     // 400 method longer than limits.uri
@inline export const E_BAD_TARGET: u32 = 3;      // 400 byte outside RFC 3986 in the target, or empty target
@inline export const E_BAD_PCT: u32 = 4;         // 400 "%" not followed by two HEXDIG
@inline export const E_FRAGMENT: u32 = 5;        // 400 "#" in the target (RFC 9112 3.2: no fragment)
@inline export const E_USERINFO: u32 = 6;        // 400 userinfo in an authority (RFC 9110 4.2.4)
@inline export const E_TARGET_FORM: u32 = 7;     // 400 target form not allowed for this method
@inline export const E_URI_LONG: u32 = 8;        // 414 target longer than limits.uri
@inline export const E_BAD_VERSION: u32 = 9;     // 400 malformed HTTP-version
@inline export const E_VERSION: u32 = 10;        // 505 well-formed version other than 1.0/1.1, or no version
@inline export const E_BARE_CR: u32 = 11;        // 400 CR not followed by LF
@inline export const E_BARE_LF: u32 = 12;        // 400 LF not preceded by CR
@inline export const E_OBS_FOLD: u32 = 13;       // 400 field line starting with whitespace
@inline export const E_BAD_NAME: u32 = 14;       // 400 field name not a token or no colon
@inline export const E_NAME_SPACE: u32 = 15;     // 400 whitespace between field name and colon
@inline export const E_BAD_VALUE: u32 = 16;      // 400 CTL other than HTAB in a field value
@inline export const E_FIELD_COUNT: u32 = 17;    // 431 more field lines than limits.headers
@inline export const E_FIELD_BYTES: u32 = 18;    // 431 field section larger than limits.header
@inline export const E_HOST_MISSING: u32 = 19;   // 400 HTTP/1.1 request without Host
@inline export const E_HOST_DUP: u32 = 20;       // 400 more than one Host line
@inline export const E_HOST_BAD: u32 = 21;       // 400 Host value is not uri-host [":" port]
@inline export const E_CL_BAD: u32 = 22;         // 400 Content-Length not 1*DIGIT or above 2^64-1
@inline export const E_CL_DUP: u32 = 23;         // 400 more than one Content-Length line
@inline export const E_TE_CL: u32 = 24;          // 400 Transfer-Encoding together with Content-Length
@inline export const E_TE_HTTP10: u32 = 25;      // 400 Transfer-Encoding in an HTTP/1.0 request
@inline export const E_TE_BAD: u32 = 26;         // 400 chunked not final, repeated, with parameters, or empty
@inline export const E_TE_CODING: u32 = 27;      // 501 a transfer coding other than chunked
@inline export const E_BODY_LARGE: u32 = 28;     // 413 body above limits.body / form / upload
@inline export const E_CHUNK_SIZE: u32 = 29;     // 400 chunk size not 1*16HEXDIG
@inline export const E_CHUNK_EXT: u32 = 30;      // 400 malformed chunk extension
@inline export const E_CHUNK_EXT_LONG: u32 = 31; // 413 chunk extensions longer than limits.chunkExt
@inline export const E_CHUNK_DATA: u32 = 32;     // 400 chunk data not followed by CRLF
@inline export const E_EMPTY_LINES: u32 = 33;    // 400 (unused since empty lines are unbounded; kept: codes are append-only)
@inline export const E_PARSE_TIMEOUT: u32 = 34;  // 408 head not complete within timeouts.parse
@inline export const E_REQ_TIMEOUT: u32 = 35;    // 408 request not complete within timeouts.request
@inline export const E_IDLE_TIMEOUT: u32 = 36;   // 0   no bytes within timeouts.inactivity
@inline export const E_SESSION_TIMEOUT: u32 = 37;// 0   connection older than timeouts.session
@inline export const E_CONN_LIMIT: u32 = 38;     // 0   limits.connections reached
@inline export const E_CLIENT_CONN_LIMIT: u32 = 39; // 0 limits.clientConnections reached
@inline export const E_RESP_STATUS: u32 = 40;    // -  respond(): status outside 100..599
@inline export const E_RESP_NAME: u32 = 41;      // -  respond(): header name not a token
@inline export const E_RESP_VALUE: u32 = 42;     // -  respond(): CR, LF, NUL or other CTL in a value
@inline export const E_RESP_FRAMING: u32 = 43;   // -  respond(): app tried to set a framing header
@inline export const E_RESP_SPACE: u32 = 44;     // -  respond(): head does not fit the output area
@inline export const E_SLOT: u32 = 45;           // -  slot number out of range or not open
@inline export const E_CONFIG: u32 = 46;         // -  init(): config blob invalid or tables do not fit
@inline export const E_CLOSED: u32 = 47;         // 0   bytes after a request that closes the connection
@inline export const E_BANNED: u32 = 48;         // 0   the client is banned by a defense rule
@inline export const E_RATE_LIMIT: u32 = 49;     // 429 a rate rule (limits.clientRequests) refused the request
@inline export const E_COUNT: u32 = 50;

// Status per code, indexed by code; read only with code < E_COUNT.
export const STATUS = memory.data<u16>([
  0, 400, 400, 400, 400, 400, 400, 400, 414, 400,
  505, 400, 400, 400, 400, 400, 400, 431, 431, 400,
  400, 400, 400, 400, 400, 400, 400, 501, 413, 400,
  400, 413, 400, 400, 408, 408, 0, 0, 0, 0,
  500, 500, 500, 500, 500, 0, 0, 0, 0, 429,
]);

@inline export function statusOf(code: u32): u32 {
  return code < E_COUNT ? <u32>load<u16>(STATUS + (code << 1)) : 500;
}
