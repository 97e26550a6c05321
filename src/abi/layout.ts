/**
 * C struct layouts described as data, with offsets computed by the C rules of the
 * x86-64 / aarch64 Linux ABIs (every field aligned to its natural alignment, the
 * struct padded to its largest alignment). The mlproxy header pads explicitly, so
 * the computed layout equals the declared one; test/abi-header.test.ts checks every
 * offset and size against gcc.
 *
 * A generic encoder/decoder maps between exact-size Buffers and plain records:
 * u32/s32 -> number, u64/s64 -> number (throws above Number.MAX_SAFE_INTEGER),
 * char[n] -> string (NUL-padded on encode, cut at the first NUL on decode),
 * arrays -> arrays, nested structs -> records.
 */
import { endianness } from 'node:os';

export type ScalarType = 'u32' | 's32' | 'u64' | 's64';
export type FieldType = ScalarType | 'char' | StructLayout;

export interface FieldDef {
  name: string;
  type: FieldType;
  /** Array length; absent for a single value. Required for 'char'. */
  count?: number;
}

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  /** Array length, or undefined for a single value. */
  readonly count: number | undefined;
  readonly offset: number;
  /** Size of one element (of the whole char array for 'char'). */
  readonly elemSize: number;
  readonly size: number;
}

export type FieldValue = number | string | number[] | StructValue | StructValue[];
export interface StructValue {
  [field: string]: FieldValue;
}

const SCALAR_SIZE: Record<ScalarType, number> = { u32: 4, s32: 4, u64: 8, s64: 8 };
const LITTLE_ENDIAN = endianness() === 'LE';
const TWO32 = 4294967296;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export class StructLayout {
  readonly fields: readonly Field[];
  readonly size: number;
  readonly align: number;
  private readonly byName: Map<string, Field>;

  /** cName: the C struct name, e.g. "mlp_state" (for messages and the gcc check). */
  constructor(
    readonly cName: string,
    defs: readonly FieldDef[],
  ) {
    let offset = 0;
    let align = 1;
    const fields: Field[] = [];
    for (const d of defs) {
      let elemSize: number;
      let elemAlign: number;
      if (d.type === 'char') {
        if (d.count === undefined) throw new Error(`${cName}.${d.name}: char needs a count`);
        elemSize = d.count;
        elemAlign = 1;
      } else if (d.type instanceof StructLayout) {
        elemSize = d.type.size;
        elemAlign = d.type.align;
      } else {
        elemSize = SCALAR_SIZE[d.type];
        elemAlign = elemSize;
      }
      offset = alignUp(offset, elemAlign);
      const n = d.type === 'char' ? 1 : (d.count ?? 1);
      fields.push({
        name: d.name,
        type: d.type,
        count: d.count,
        offset,
        elemSize,
        size: elemSize * n,
      });
      offset += elemSize * n;
      align = Math.max(align, elemAlign);
    }
    this.fields = fields;
    this.align = align;
    this.size = alignUp(offset, align);
    this.byName = new Map(fields.map((f) => [f.name, f]));
  }

  field(name: string): Field {
    const f = this.byName.get(name);
    if (!f) throw new Error(`struct ${this.cName} has no field "${name}"`);
    return f;
  }

  offsetOf(name: string): number {
    return this.field(name).offset;
  }

  /** Encodes a record into a fresh Buffer of exactly this.size bytes; absent fields are 0. */
  encode(value: StructValue): Buffer {
    for (const key of Object.keys(value)) this.field(key); // reject unknown fields
    const buf = Buffer.alloc(this.size);
    this.encodeInto(buf, 0, value);
    return buf;
  }

  /** Decodes a Buffer of exactly this.size bytes. */
  decode(buf: Buffer): StructValue {
    if (buf.length !== this.size) {
      throw new RangeError(
        `struct ${this.cName}: expected ${this.size} bytes, got ${buf.length} (ABI mismatch?)`,
      );
    }
    return this.decodeAt(buf, 0);
  }

  private encodeInto(buf: Buffer, base: number, value: StructValue): void {
    for (const f of this.fields) {
      const v = value[f.name];
      if (v === undefined) continue;
      const where = `${this.cName}.${f.name}`;
      const at = base + f.offset;
      if (f.type === 'char') {
        if (typeof v !== 'string') throw new TypeError(`${where}: expected a string`);
        const bytes = Buffer.from(v, 'utf8');
        if (bytes.length >= f.elemSize) {
          throw new RangeError(`${where}: "${v}" is longer than ${f.elemSize - 1} bytes`);
        }
        bytes.copy(buf, at);
      } else if (f.count !== undefined) {
        if (!Array.isArray(v)) throw new TypeError(`${where}: expected an array`);
        if (v.length > f.count) {
          throw new RangeError(`${where}: ${v.length} elements, at most ${f.count} allowed`);
        }
        v.forEach((e, i) => this.encodeElem(buf, at + i * f.elemSize, f, e, `${where}[${i}]`));
      } else {
        this.encodeElem(buf, at, f, v, where);
      }
    }
  }

  private encodeElem(buf: Buffer, at: number, f: Field, v: unknown, where: string): void {
    if (f.type instanceof StructLayout) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new TypeError(`${where}: expected a struct ${f.type.cName} record`);
      }
      f.type.encodeInto(buf, at, v as StructValue);
      return;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`${where}: expected an integer, got ${String(v)}`);
    }
    switch (f.type) {
      case 'u32':
        checkRange(v, 0, 0xffffffff, where);
        if (LITTLE_ENDIAN) buf.writeUInt32LE(v, at);
        else buf.writeUInt32BE(v, at);
        break;
      case 's32':
        checkRange(v, -0x80000000, 0x7fffffff, where);
        if (LITTLE_ENDIAN) buf.writeInt32LE(v, at);
        else buf.writeInt32BE(v, at);
        break;
      case 'u64':
      case 's64': {
        const lo = f.type === 'u64' ? 0 : -Number.MAX_SAFE_INTEGER;
        checkRange(v, lo, Number.MAX_SAFE_INTEGER, where);
        // Two 32-bit halves: exact for |v| < 2^53, and without a BigInt per field.
        const hi = Math.floor(v / TWO32);
        const low = v - hi * TWO32;
        if (LITTLE_ENDIAN) {
          buf.writeUInt32LE(low, at);
          buf.writeInt32LE(hi, at + 4);
        } else {
          buf.writeInt32BE(hi, at);
          buf.writeUInt32BE(low, at + 4);
        }
        break;
      }
      default:
        throw new Error(`${where}: unsupported type`);
    }
  }

  private decodeAt(buf: Buffer, base: number): StructValue {
    const out: StructValue = {};
    for (const f of this.fields) {
      const at = base + f.offset;
      if (f.type === 'char') {
        const raw = buf.subarray(at, at + f.elemSize);
        const nul = raw.indexOf(0);
        out[f.name] = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
      } else if (f.count !== undefined) {
        const n = f.count;
        if (f.type instanceof StructLayout) {
          const t = f.type;
          out[f.name] = Array.from({ length: n }, (_, i) => t.decodeAt(buf, at + i * f.elemSize));
        } else {
          const t = f.type;
          const arr = new Array<number>(n);
          for (let i = 0; i < n; i++) {
            arr[i] = decodeScalar(buf, at + i * f.elemSize, t, this.cName, f.name, i);
          }
          out[f.name] = arr;
        }
      } else if (f.type instanceof StructLayout) {
        out[f.name] = f.type.decodeAt(buf, at);
      } else {
        out[f.name] = decodeScalar(buf, at, f.type, this.cName, f.name, -1);
      }
    }
    return out;
  }
}

function checkRange(v: number, lo: number, hi: number, where: string): void {
  if (v < lo || v > hi) throw new RangeError(`${where}: ${v} is outside [${lo}, ${hi}]`);
}

/** "struct.field" or "struct.field[i]", built only for an error message. */
function whereOf(struct: string, field: string, index: number): string {
  return index < 0 ? `${struct}.${field}` : `${struct}.${field}[${index}]`;
}

function decodeScalar(
  buf: Buffer,
  at: number,
  type: ScalarType,
  struct: string,
  field: string,
  index: number,
): number {
  switch (type) {
    case 'u32':
      return LITTLE_ENDIAN ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
    case 's32':
      return LITTLE_ENDIAN ? buf.readInt32LE(at) : buf.readInt32BE(at);
    case 'u64':
    case 's64': {
      // Two 32-bit halves (no BigInt unless the value does not fit a number).
      const loAt = LITTLE_ENDIAN ? at : at + 4;
      const hiAt = LITTLE_ENDIAN ? at + 4 : at;
      const low = LITTLE_ENDIAN ? buf.readUInt32LE(loAt) : buf.readUInt32BE(loAt);
      const hi =
        type === 'u64'
          ? LITTLE_ENDIAN
            ? buf.readUInt32LE(hiAt)
            : buf.readUInt32BE(hiAt)
          : LITTLE_ENDIAN
            ? buf.readInt32LE(hiAt)
            : buf.readInt32BE(hiAt);
      // |v| <= 2^53 - 1: hi within [-2^21, 2^21 - 1], and not -2^53 itself.
      if (hi > 0x1fffff || hi < -0x200000 || (hi === -0x200000 && low === 0)) {
        const big = (BigInt(hi) << 32n) + BigInt(low);
        throw new RangeError(
          `${whereOf(struct, field, index)}: ${big} does not fit a JavaScript number exactly (|v| > 2^53 - 1)`,
        );
      }
      return hi * TWO32 + low;
    }
  }
}
