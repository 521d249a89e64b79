/**
 * Masks the user-info of every URL in a text: `rtsp://user:pass@host/x` → `rtsp://***@host/x`.
 * ffmpeg's messages usually quote the stream URL, password included; run any reason or error text
 * through this before it is logged, posted or served.
 */
export function redactUrls(text: string): string {
  return text.replace(/\/\/[^\s/?#]*@/g, '//***@');
}
