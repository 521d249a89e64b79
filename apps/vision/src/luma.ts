/**
 * rgb24 → 8-bit luma plane for @its/vision's motion gate (which works on grey planes). Integer BT.601
 * weights (×256): exact enough to tell "changed" from "not changed", and a few hundred µs per frame.
 */
export function rgbToLuma(rgb: Uint8Array, width: number, height: number, out?: Uint8Array): Uint8Array {
  const n = width * height;
  const luma = out && out.length >= n ? out : new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3)
    luma[i] = (77 * rgb[j]! + 150 * rgb[j + 1]! + 29 * rgb[j + 2]!) >> 8;
  return luma;
}
