// Runs the image's own detector on raw RGB24 frames and prints the detections as JSON: the check that
// an image for another architecture (the arm64 edge image, under QEMU here) sees what the amd64 image
// sees. Mounted read-only into the container by the multi-architecture test; plain JavaScript, because
// a runtime image carries compiled output only.
//   node detect-frames.mjs FRAMES.rgb WIDTH HEIGHT [THREADS]
import { readFileSync } from 'node:fs';
import { arch } from 'node:process';

const [file, w, h, threads = '1'] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
if (!file || !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
  console.error('usage: node detect-frames.mjs FRAMES.rgb WIDTH HEIGHT [THREADS]');
  process.exit(64);
}
// The compiled workspace package, where every image keeps it (docker/Dockerfile, dist stage).
const { createDetector } = await import('/app/packages/vision/dist/detector/index.js');
const bytes = readFileSync(file);
const frameBytes = width * height * 3;
if (bytes.length === 0 || bytes.length % frameBytes !== 0) {
  console.error(`${file}: ${bytes.length} bytes is not a whole number of ${width}×${height} RGB frames`);
  process.exit(64);
}
const detector = await createDetector({ threads: Number(threads), inputSize: { width, height } });
const detections = [];
for (let i = 0; i < bytes.length / frameBytes; i++) {
  const frame = new Uint8Array(bytes.buffer, bytes.byteOffset + i * frameBytes, frameBytes);
  detections.push(await detector.detect(frame, width, height));
}
await detector.close();
process.stdout.write(`${JSON.stringify({ arch, frames: detections.length, detections })}\n`);
