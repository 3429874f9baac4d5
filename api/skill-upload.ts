// A skill upload, as the SDK's `skills.create` / `skills.versions.create` send it: multipart/form-data with the
// skill's files as `files[]` parts (each named by its path, e.g. `my-skill/SKILL.md`) or one zip archive of them, and
// an optional `display_name`. The files share one top-level folder (stripped; a flat upload is accepted too) holding
// SKILL.md, whose YAML front matter gives `name` (else the folder's name) and `description`. Bad input is a 400.
import { unzipSync } from 'fflate';
import { parse as parseYaml } from 'yaml';
import type { SkillFile, SkillUpload } from '../db/repositories/skills.ts';
import { maxSkillDescriptionLength, maxSkillNameLength, skillNamePattern } from '../domain/skills.ts';
import { invalidRequest } from './errors.ts';

/** Most files in one version, and most bytes they may hold once unpacked (a zip cannot inflate past this). */
const maxFiles = 500;
const maxUnpackedBytes = 30 * 1024 * 1024;
const maxDisplayNameLength = 255;

export interface ParsedSkillUpload {
  upload: SkillUpload;
  displayName: string | undefined;
}

const isZip = (data: Uint8Array): boolean =>
  data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04;

async function formOf(body: unknown, contentType: string): Promise<FormData> {
  if (!Buffer.isBuffer(body)) throw invalidRequest('send the skill as multipart/form-data with "files[]" parts');
  try {
    return await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalidRequest('malformed multipart/form-data body');
  }
}

function unzip(data: Uint8Array): SkillFile[] {
  let unpacked = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data, {
      filter: (file) => {
        unpacked += file.originalSize;
        if (unpacked > maxUnpackedBytes)
          throw invalidRequest(`the skill unpacks to more than ${maxUnpackedBytes} bytes`);
        return !file.name.endsWith('/');
      },
    });
  } catch (error) {
    if (error instanceof Error && 'status' in error) throw error;
    throw invalidRequest('the uploaded zip archive could not be read');
  }
  return Object.entries(entries).map(([path, content]) => ({ path, data: Buffer.from(content) }));
}

/** A relative path of plain segments, or a 400. */
function safePath(raw: string): string {
  const segments = raw
    .replaceAll('\\', '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  if (raw.startsWith('/') || segments.length === 0 || segments.some((segment) => segment === '..')) {
    throw invalidRequest(`file path ${JSON.stringify(raw)} is not a relative path inside the skill`);
  }
  if (segments.some((segment) => [...segment].some((char) => char.charCodeAt(0) < 0x20))) {
    throw invalidRequest(`file path ${JSON.stringify(raw)} has control characters`);
  }
  return segments.join('/');
}

/** The files with their shared top-level folder stripped, and that folder's name (none for a flat upload). */
function stripTopFolder(files: SkillFile[]): { files: SkillFile[]; folder: string | undefined } {
  const tops = new Set(files.map((file) => (file.path.includes('/') ? file.path.split('/')[0] : '')));
  const [top] = tops;
  if (tops.size !== 1 || !top) return { files, folder: undefined };
  return { files: files.map((file) => ({ ...file, path: file.path.slice(top.length + 1) })), folder: top };
}

function frontMatter(skillMd: Buffer): Record<string, unknown> {
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(skillMd.toString('utf8'));
  if (!match) throw invalidRequest('SKILL.md must start with YAML front matter between --- lines');
  let parsed: unknown;
  try {
    parsed = parseYaml(match[1] ?? '');
  } catch {
    throw invalidRequest('the YAML front matter of SKILL.md could not be parsed');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('the front matter of SKILL.md must be a YAML mapping');
  }
  return parsed as Record<string, unknown>;
}

function nameAndDescription(skillMd: Buffer, folder: string | undefined): { name: string; description: string } {
  const fields = frontMatter(skillMd);
  const name = typeof fields.name === 'string' ? fields.name.trim() : folder;
  if (!name) throw invalidRequest('SKILL.md front matter has no "name" (and the files are not in a named folder)');
  if (name.length > maxSkillNameLength || !skillNamePattern.test(name)) {
    throw invalidRequest(
      `skill name ${JSON.stringify(name)} must be lowercase letters, digits and single hyphens, ` +
        `at most ${maxSkillNameLength} characters`,
    );
  }
  const description = typeof fields.description === 'string' ? fields.description.trim() : '';
  if (!description) throw invalidRequest('SKILL.md front matter has no "description"');
  if (description.includes('\u0000')) throw invalidRequest('the skill description has a NUL character');
  if (description.length > maxSkillDescriptionLength) {
    throw invalidRequest(`the skill description is longer than ${maxSkillDescriptionLength} characters`);
  }
  return { name, description };
}

async function uploadedFiles(form: FormData): Promise<SkillFile[]> {
  const parts = [...form.getAll('files[]'), ...form.getAll('files')];
  if (parts.length === 0) throw invalidRequest('the multipart body has no "files[]" parts');
  const files: SkillFile[] = [];
  for (const part of parts) {
    if (typeof part === 'string') throw invalidRequest('every "files[]" part must be a file');
    const data = Buffer.from(await part.arrayBuffer());
    if (parts.length === 1 && (part.name.toLowerCase().endsWith('.zip') || isZip(data))) return unzip(data);
    files.push({ path: part.name, data });
  }
  return files;
}

/** The upload in a multipart body: its files (paths checked, top folder stripped) and SKILL.md's fields. */
export async function parseSkillUpload(body: unknown, contentType: string): Promise<ParsedSkillUpload> {
  const form = await formOf(body, contentType);
  const displayName = form.get('display_name');
  if (displayName !== null && typeof displayName !== 'string') throw invalidRequest('display_name must be a string');
  if (
    displayName !== null &&
    (displayName.length > maxDisplayNameLength || /[\r\n]/.test(displayName) || displayName.includes('\u0000'))
  ) {
    throw invalidRequest(`display_name must be a single line of at most ${maxDisplayNameLength} characters`);
  }
  const raw = (await uploadedFiles(form)).map((file) => ({ ...file, path: safePath(file.path) }));
  if (raw.length > maxFiles) throw invalidRequest(`a skill holds at most ${maxFiles} files`);
  if (raw.reduce((total, file) => total + file.data.length, 0) > maxUnpackedBytes) {
    throw invalidRequest(`the skill's files hold more than ${maxUnpackedBytes} bytes`);
  }
  const { files, folder } = stripTopFolder(raw);
  const paths = new Set<string>();
  for (const file of files) {
    if (paths.has(file.path)) throw invalidRequest(`file ${JSON.stringify(file.path)} is uploaded twice`);
    paths.add(file.path);
  }
  const skillMd = files.find((file) => file.path === 'SKILL.md');
  if (!skillMd) throw invalidRequest('the upload has no SKILL.md at the root of its folder');
  const { name, description } = nameAndDescription(skillMd.data, folder);
  return { upload: { name, description, files }, displayName: displayName?.trim() || undefined };
}
