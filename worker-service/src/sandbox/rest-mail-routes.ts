/**
 * The REST mail API (the fallback where exportItems does not exist): `/users/{id}/…` and `/me/…`
 * mailFolders (+ `{id|wellKnownName}`, childFolders, delta), messages of a folder and their delta,
 * all messages, one message, its attachments, and `$value` (the original MIME bytes). Like Graph,
 * it reaches only the primary mailbox.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorize, PERMISSIONS, resolveUser, restMailbox, stateOf, type SandboxContext } from './context';
import { contextUrl, sendDelta, sendPage } from './collections';
import { GraphErrors } from './graph-errors';
import { attachmentsJson, mailFolderJson, messageJson } from './graph-json';
import { applySelect, queryOf } from './odata';
import { walkTree, type SandboxFolder, type SandboxMailbox, type SandboxUser } from './tenant';

/** A GET route under both `/users/:uid` and `/me`; the handler gets the user and mailbox. */
export function userRoute(
  app: FastifyInstance, ctx: SandboxContext, path: string, perm: (typeof PERMISSIONS)[keyof typeof PERMISSIONS],
  handler: (req: FastifyRequest, reply: FastifyReply, user: SandboxUser, mb: SandboxMailbox) => unknown,
): void {
  const run = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = resolveUser(ctx, req, (req.params as { uid?: string }).uid);
    authorize(req, perm, user);
    return handler(req, reply, user, restMailbox(user));
  };
  app.get(`/users/:uid${path}`, run);
  app.get(`/me${path}`, run);
}

/** Mail folders (container class IPF.Note) of a mailbox, top level. */
function mailRoots(mb: SandboxMailbox): SandboxFolder[] {
  return mb.folders.filter((f) => f.type === 'IPF.Note');
}

/** A mail folder by id or well-known name. @throws 404 */
export function mailFolderOf(ctx: SandboxContext, mb: SandboxMailbox, idOrName: string, type = 'IPF.Note'): SandboxFolder {
  const f = ctx.tenant.folder(idOrName) ?? walkTree(mb.folders).find((x) => x.wellKnownName?.toLowerCase() === idOrName.toLowerCase());
  if (!f || f.mailbox !== mb || f.type !== type) throw GraphErrors.notFound(`folder ${idOrName}`);
  return f;
}

/** Registers the REST mail routes (inside a version prefix). */
export function registerRestMailRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const beta = (req: FastifyRequest): boolean => stateOf(req).version === 'beta';
  const fid = (req: FastifyRequest): string => (req.params as { fid: string }).fid;
  const mid = (req: FastifyRequest): string => (req.params as { mid: string }).mid;
  const P = PERMISSIONS.mail;

  userRoute(app, ctx, '/mailFolders', P, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `mailFolders:${mb.id}`, mailRoots(mb).map((f) => mailFolderJson(f, beta(req))), `users('${u.id}')/mailFolders`));
  userRoute(app, ctx, '/mailFolders/delta', P, (req, reply, u, mb) =>
    sendDelta(ctx, req, reply, `mailFolderDelta:${mb.id}`, walkTree(mailRoots(mb)).map((f) => ({ id: f.id, modSeq: f.createdSeq, json: () => mailFolderJson(f, beta(req)) })), [], 'Collection(mailFolder)'));
  userRoute(app, ctx, '/mailFolders/:fid', P, (req, _reply, u, mb) =>
    ({ '@odata.context': contextUrl(ctx, req, `users('${u.id}')/mailFolders/$entity`), ...applySelect(mailFolderJson(mailFolderOf(ctx, mb, fid(req)), beta(req)), queryOf(req).$select) }));
  userRoute(app, ctx, '/mailFolders/:fid/childFolders', P, (req, reply, u, mb) => {
    const f = mailFolderOf(ctx, mb, fid(req));
    return sendPage(ctx, req, reply, `mailChildren:${f.id}`, f.children.map((c) => mailFolderJson(c, beta(req))), `users('${u.id}')/mailFolders('${f.id}')/childFolders`);
  });
  userRoute(app, ctx, '/mailFolders/:fid/messages', P, (req, reply, u, mb) => {
    const f = mailFolderOf(ctx, mb, fid(req));
    return sendPage(ctx, req, reply, `messages:${f.id}`, f.items.map(messageJson), `users('${u.id}')/mailFolders('${f.id}')/messages`, { skipParam: '$skip' });
  });
  userRoute(app, ctx, '/mailFolders/:fid/messages/delta', P, (req, reply, _u, mb) => {
    const f = mailFolderOf(ctx, mb, fid(req));
    return sendDelta(ctx, req, reply, `messageDelta:${f.id}`, f.items.map((it) => ({ id: it.id, modSeq: it.modSeq, json: () => messageJson(it) })), f.removed, 'Collection(message)');
  });
  userRoute(app, ctx, '/messages', P, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `allMessages:${mb.id}`, walkTree(mailRoots(mb)).flatMap((f) => f.items).map(messageJson), `users('${u.id}')/messages`, { skipParam: '$skip' }));

  const messageOf = (mb: SandboxMailbox, id: string) => {
    const it = ctx.tenant.item(id);
    if (!it || it.folder.mailbox !== mb || it.folder.type !== 'IPF.Note') throw GraphErrors.notFound(`message ${id}`);
    return it;
  };
  userRoute(app, ctx, '/messages/:mid', P, (req, _reply, u, mb) =>
    ({ '@odata.context': contextUrl(ctx, req, `users('${u.id}')/messages/$entity`), ...applySelect(messageJson(messageOf(mb, mid(req))), queryOf(req).$select) }));
  userRoute(app, ctx, '/messages/:mid/attachments', P, (req, reply, u, mb) => {
    const it = messageOf(mb, mid(req));
    return sendPage(ctx, req, reply, `attachments:${it.id}`, attachmentsJson(it), `users('${u.id}')/messages('${it.id}')/attachments`);
  });
  userRoute(app, ctx, '/messages/:mid/$value', P, (req, reply, _u, mb) => {
    const it = messageOf(mb, mid(req));
    if (!it.mime) throw GraphErrors.notFound('MIME content');
    return reply.header('content-type', 'text/plain').send(Buffer.from(it.mime));
  });
}
