// Seeds a gallery through the public API, the way a script or a migration would: real PNG
// files (each one different, in a handful of shapes), sent twenty to a request
// (`POST /api/v1/uploads`, the server's MAX_UPLOAD_FILES), a few requests at a time.
import { deflateSync } from "node:zlib";
import { expect, type Page } from "@playwright/test";

/// The shapes the seeded images come in (width × height): square, landscape, portrait,
/// panorama and tall, so that a justified grid has something to justify.
export const SHAPES: [number, number][] = [
  [64, 64],
  [96, 64],
  [48, 64],
  [128, 48],
  [64, 96],
  [80, 60],
  [40, 100],
];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/// A PNG of one colour (8-bit RGB).
export function png(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/// The `n`th seeded image: its name, shape and bytes (a colour of its own).
export function seeded(n: number) {
  const [width, height] = SHAPES[n % SHAPES.length];
  const colour: [number, number, number] = [n % 256, Math.floor(n / 256) % 256, (n * 7) % 256];
  return { name: `seed ${n}.png`, width, height, bytes: png(width, height, colour) };
}

/// A multipart body of `files` under the name `file` (repeated, which Playwright's
/// `multipart` option cannot say).
function multipart(files: { name: string; bytes: Buffer }[]) {
  const boundary = `----seed${Math.random().toString(36).slice(2)}`;
  const parts = files.flatMap((f) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    f.bytes,
    Buffer.from("\r\n"),
  ]);
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/// Uploads `count` images as the page's account; answers how long it took, in seconds.
export async function seedImages(page: Page, count: number, { perRequest = 20, parallel = 4 } = {}) {
  const origin = new URL(page.url()).origin;
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + perRequest);
      const files = Array.from({ length: next - from }, (_, i) => seeded(from + i));
      const { body, type } = multipart(files);
      const res = await page.request.post("/api/v1/uploads", {
        headers: { origin, "content-type": type },
        data: body,
        timeout: 60_000,
      });
      expect(res.status(), await res.text().catch(() => "")).toBe(201);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return (Date.now() - started) / 1000;
}
