// Unknown fields in a Kubernetes manifest. kubernetes-models' validators follow the OpenAPI schemas,
// which do not forbid extra properties: a misspelt `readOnlyRootFilesytem` validates, and the API
// server drops it (kubectl only warns). The field names of every object are in the package's
// TypeScript declarations (one interface per file, property types naming the next interface), so the
// manifest is walked along them and every key that is not a field of its object is reported.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './daemon.js';

interface Shape {
  /** Field name -> its declared type, as written in the declaration. */
  fields: Map<string, string>;
  /** Imported type name -> declaration file. */
  imports: Map<string, string>;
}

const cache = new Map<string, Shape | null>();

function declarationFile(from: string, spec: string): string {
  return spec.startsWith('.') ? join(dirname(from), `${spec}.d.ts`) : join(ROOT, 'node_modules', `${spec}.d.ts`);
}

/** The exported interface of a declaration file, or null when it declares none (a scalar type alias). */
function shapeOf(file: string): Shape | null {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  let shape: Shape | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
      for (const name of m[1].split(',').map((s) => s.trim())) imports.set(name, declarationFile(file, m[2]));
    }
    const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}$/m.exec(text);
    if (body) {
      const fields = new Map<string, string>();
      for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) fields.set(m[1], m[2]);
      shape = { fields, imports };
    }
  }
  cache.set(file, shape);
  return shape;
}

/** Paths of the keys of `value` that are not fields of the object declared in `file` (recursively). */
export function unknownFields(value: unknown, file: string, path = ''): string[] {
  const shape = shapeOf(file);
  if (shape === null || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${key}` : key;
    const type = shape.fields.get(key);
    if (type === undefined) {
      out.push(here);
      continue;
    }
    const array = /^Array<(\w+)>$/.exec(type);
    const name = array ? array[1] : type;
    const next = shape.imports.get(name);
    if (next === undefined) continue; // a scalar, a map of strings, a literal
    if (array && Array.isArray(v)) v.forEach((item, i) => out.push(...unknownFields(item, next, `${here}.${i}`)));
    else if (!array) out.push(...unknownFields(v, next, here));
  }
  return out;
}

/** The declaration file of a kubernetes-models class, e.g. model('apps/v1/DaemonSet'). */
export const model = (path: string): string => join(ROOT, 'node_modules', 'kubernetes-models', `${path}.d.ts`);
