// The --html page in headless Chromium (Debian's chromium): a screenshot must show both 32-cell grids
// with each cell in its owner's colour, in bit order 31..0. Skipped, with the reason, without chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { analyze } from '../../../src/marks/index.js';
import { cellColour, renderDoctorHtml } from '../../../src/cli/render/doctor-html.js';
import { ownerColours } from '../../../src/cli/render/doctor.js';
import { A, M, ipt, kubeNode, rule, ruleset } from '../marks/build.js';

function chromium(): string | null {
  for (const c of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

const browser = chromium();

function hexRgb(css: string): [number, number, number] {
  const n = parseInt(css.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Runs of one colour along a pixel row (white background dropped), with their lengths. */
function runs(png: PNG, y: number): Array<{ rgb: [number, number, number]; len: number }> {
  const out: Array<{ rgb: [number, number, number]; len: number }> = [];
  for (let x = 0; x < png.width; x++) {
    const i = (png.width * y + x) * 4;
    const rgb: [number, number, number] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    const last = out[out.length - 1];
    if (last && last.rgb.every((v, k) => v === rgb[k])) last.len++;
    else out.push({ rgb, len: 1 });
  }
  return out.filter((r) => !(r.rgb[0] === 255 && r.rgb[1] === 255 && r.rgb[2] === 255));
}

function close(a: [number, number, number], b: [number, number, number]): boolean {
  return a.every((v, k) => Math.abs(v - b[k]) <= 4);
}

/** Rows whose coloured runs are exactly the 32 expected cells (each at least 20 px wide). */
function gridRows(png: PNG, expected: Array<[number, number, number]>): number[] {
  const ys: number[] = [];
  for (let y = 0; y < png.height; y++) {
    const rs = runs(png, y).filter((r) => r.len >= 20);
    if (rs.length === 32 && rs.every((r, k) => close(r.rgb, expected[k]))) ys.push(y);
  }
  return ys;
}

test('--html: the bit grids render in headless Chromium, cell by cell in the owners\' colours', { skip: browser ? false : 'chromium is not installed (apt-get install chromium)', timeout: 60_000 }, () => {
  const calicoTs = ipt('filter', {
    FORWARD: [rule('-m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD', [A.jump('cali-FORWARD')], 'cali:wUHhoiAYhphO9Mso'), rule('-j ts-forward', [A.jump('ts-forward')])],
    'cali-FORWARD': [rule('-m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0x1b0000', [A.setXmark(0, 0x1b0000)], 'cali:vjrMJCRpqwy5oRoX')],
    'ts-forward': [rule('-i tailscale0 -j MARK --set-xmark 0x40000/0xff0000', [A.setXmark(0x40000, 0xff0000)]), rule('-m mark --mark 0x40000/0xff0000 -j ACCEPT', [M.mark(0x40000, 0xff0000), A.accept])],
  });
  const report = analyze(ruleset([...kubeNode(), calicoTs]), { mask: 0x8000 });
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-html-'));
  try {
    const page = join(dir, 'doctor.html');
    const html = renderDoctorHtml(report, [], ['test']);
    assert.ok(!/https?:\/\//.test(html), 'the page loads nothing from the network');
    writeFileSync(page, html);
    const shot = join(dir, 'shot.png');
    execFileSync(browser!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${join(dir, 'profile')}`,
      '--window-size=1400,700', `--screenshot=${shot}`, `file://${page}`,
    ], { stdio: 'ignore', timeout: 45_000 });
    const png = PNG.sync.read(readFileSync(shot));
    const colours = ownerColours(report.owners);
    const markCells = Array.from({ length: 32 }, (_, i) => hexRgb(cellColour(report.bits[31 - i], colours)));
    const ctCells = Array.from({ length: 32 }, (_, i) => hexRgb(cellColour(report.ctBits[31 - i], colours)));
    const markRows = gridRows(png, markCells);
    assert.ok(markRows.length >= 10, `the packet-mark grid is on the screenshot (${markRows.length} matching pixel rows)`);
    const ctRows = gridRows(png, ctCells).filter((y) => !markRows.includes(y));
    assert.ok(ctRows.length >= 10, 'the connection-mark grid is below it');
    assert.ok(Math.min(...ctRows) > Math.max(...markRows));
    // The map is not trivially uniform: kubelet, kube-proxy, Calico+Tailscale (several owners) and free bits differ.
    assert.ok(new Set(markCells.map((c) => c.join())).size >= 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
