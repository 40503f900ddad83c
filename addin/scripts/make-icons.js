#!/usr/bin/env node
/**
 * Writes the add-in's icons (addin/assets/icon-<size>.png): a rounded square in Fluent's brand blue
 * (#0F6CBD) with a white arrow down into a tray ("export"). Drawn with signed distances and 4×4
 * supersampling, encoded as 8-bit RGBA PNG with node:zlib (PNG spec: IHDR, IDAT, IEND; CRC-32).
 * Sizes: 16/32/80 (desktop ribbon), 64/128 (IconUrl, HighResolutionIconUrl), 25/32/48 at
 * scales 1-3 (mobile: 25, 50, 75, 32, 64, 96, 48, 96, 144).
 * Run: node addin/scripts/make-icons.js
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const SIZES = [16, 25, 32, 48, 50, 64, 75, 80, 96, 128, 144];
const BLUE = [0x0f, 0x6c, 0xbd];

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// Shapes in a unit square (0..1). Distances < 0 are inside.
const roundedBox = (x, y, cx, cy, hw, hh, r) => {
  const qx = Math.abs(x - cx) - hw + r, qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const segment = (x, y, ax, ay, bx, by, w) => {
  const px = x - ax, py = y - ay, dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * t, py - dy * t) - w;
};
function glyph(x, y) {
  const w = 0.045;
  return Math.min(
    segment(x, y, 0.5, 0.2, 0.5, 0.58, w),          // arrow shaft
    segment(x, y, 0.33, 0.43, 0.5, 0.6, w),         // arrow head
    segment(x, y, 0.67, 0.43, 0.5, 0.6, w),
    segment(x, y, 0.24, 0.58, 0.24, 0.78, w),       // tray
    segment(x, y, 0.24, 0.78, 0.76, 0.78, w),
    segment(x, y, 0.76, 0.78, 0.76, 0.58, w),
  );
}

function render(size) {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0, fg = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = (px + (sx + 0.5) / S) / size, y = (py + (sy + 0.5) / S) / size;
          if (roundedBox(x, y, 0.5, 0.5, 0.5, 0.5, 0.18) <= 0) {
            bg++;
            if (glyph(x, y) <= 0) fg++;
          }
        }
      }
      const a = bg / (S * S), f = bg ? fg / bg : 0;
      const i = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(BLUE[c] * (1 - f) + 255 * f);
      out[i + 3] = Math.round(a * 255);
    }
  }
  return png(size, out);
}

const dir = path.join(__dirname, '..', 'assets');
fs.mkdirSync(dir, { recursive: true });
for (const s of SIZES) fs.writeFileSync(path.join(dir, `icon-${s}.png`), render(s));
console.log(`wrote ${SIZES.length} icons to ${dir}`);
