/**
 * The REST contacts, calendar and To Do APIs (fallback path): contacts and contactFolders (+ contacts
 * delta), events (+ one event, instances), calendarView and calendarView/delta (occurrences of
 * series expanded, deleted ones left out, exceptions with their subject), To Do lists and tasks
 * (+ tasks delta). Notes and journal entries have no REST API in Graph: only exportItems reaches them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PERMISSIONS, stateOf, type SandboxContext } from './context';
import { contextUrl, sendDelta, sendPage } from './collections';
import { GraphErrors } from './graph-errors';
import { contactJson, etag, eventInstances, eventJson, todoTaskJson } from './graph-json';
import { applySelect, queryOf } from './odata';
import { mailFolderOf, userRoute } from './rest-mail-routes';
import { walkTree, type SandboxFolder, type SandboxMailbox } from './tenant';

function foldersOfType(mb: SandboxMailbox, type: string): SandboxFolder[] {
  return walkTree(mb.folders).filter((f) => f.type === type);
}

/** `startDateTime` / `endDateTime` of a calendarView request. @throws 400 when missing */
function viewRange(req: FastifyRequest): { from: Date; to: Date } {
  const q = queryOf(req);
  const from = new Date(q.startDateTime ?? q.startdatetime ?? '');
  const to = new Date(q.endDateTime ?? q.enddatetime ?? '');
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw GraphErrors.badRequest("This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.", 'ErrorInvalidParameter');
  }
  return { from, to };
}

/** Registers the REST contacts / calendar / To Do routes (inside a version prefix). */
export function registerRestPimRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name];
  const itemIn = (folders: SandboxFolder[], id: string) => {
    const it = ctx.tenant.item(id);
    if (!it || !folders.includes(it.folder)) throw GraphErrors.notFound(id);
    return it;
  };

  // Contacts
  const C = PERMISSIONS.contacts;
  userRoute(app, ctx, '/contacts', C, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `contacts:${mb.id}`, foldersOfType(mb, 'IPF.Contact').flatMap((f) => f.items).map(contactJson), `users('${u.id}')/contacts`));
  userRoute(app, ctx, '/contacts/:cid', C, (req, _reply, u, mb) =>
    ({ '@odata.context': contextUrl(ctx, req, `users('${u.id}')/contacts/$entity`), ...applySelect(contactJson(itemIn(foldersOfType(mb, 'IPF.Contact'), param(req, 'cid'))), queryOf(req).$select) }));
  userRoute(app, ctx, '/contactFolders', C, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `contactFolders:${mb.id}`, foldersOfType(mb, 'IPF.Contact').map((f) => ({ id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId })), `users('${u.id}')/contactFolders`));
  userRoute(app, ctx, '/contactFolders/:fid/contacts', C, (req, reply, u, mb) => {
    const f = mailFolderOf(ctx, mb, param(req, 'fid'), 'IPF.Contact');
    return sendPage(ctx, req, reply, `contactsIn:${f.id}`, f.items.map(contactJson), `users('${u.id}')/contactFolders('${f.id}')/contacts`);
  });
  userRoute(app, ctx, '/contactFolders/:fid/contacts/delta', C, (req, reply, _u, mb) => {
    const f = mailFolderOf(ctx, mb, param(req, 'fid'), 'IPF.Contact');
    return sendDelta(ctx, req, reply, `contactDelta:${f.id}`, f.items.map((it) => ({ id: it.id, modSeq: it.modSeq, json: () => contactJson(it) })), f.removed, 'Collection(contact)');
  });

  // Calendar
  const E = PERMISSIONS.calendars;
  const beta = (req: FastifyRequest): boolean => stateOf(req).version === 'beta';
  userRoute(app, ctx, '/events', E, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `events:${mb.id}`, foldersOfType(mb, 'IPF.Appointment').flatMap((f) => f.items).map((it) => eventJson(it, u, beta(req))), `users('${u.id}')/events`));
  userRoute(app, ctx, '/events/:eid', E, (req, _reply, u, mb) =>
    ({ '@odata.context': contextUrl(ctx, req, `users('${u.id}')/events/$entity`), ...applySelect(eventJson(itemIn(foldersOfType(mb, 'IPF.Appointment'), param(req, 'eid')), u, beta(req)), queryOf(req).$select) }));
  userRoute(app, ctx, '/events/:eid/instances', E, (req, reply, u, mb) => {
    const it = itemIn(foldersOfType(mb, 'IPF.Appointment'), param(req, 'eid'));
    const { from, to } = viewRange(req);
    return sendPage(ctx, req, reply, `instances:${it.id}`, eventInstances(it, u, from, to), `users('${u.id}')/events('${it.id}')/instances`);
  });
  const view = (u: Parameters<typeof eventInstances>[1], mb: SandboxMailbox, req: FastifyRequest) => {
    const { from, to } = viewRange(req);
    return foldersOfType(mb, 'IPF.Appointment').flatMap((f) => f.items).flatMap((it) => eventInstances(it, u, from, to).map((json) => ({ it, json })));
  };
  userRoute(app, ctx, '/calendarView', E, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `calendarView:${mb.id}`, view(u, mb, req).map((x) => x.json), `users('${u.id}')/calendarView`));
  userRoute(app, ctx, '/calendarView/delta', E, (req, reply, u, mb) => {
    // Graph puts the time window into the delta and skip tokens; the sandbox keeps it in the query.
    const entries = view(u, mb, req).map(({ it, json }) => ({ id: String(json.id), modSeq: it.modSeq, json: () => json }));
    return sendDelta(ctx, req, reply, `calendarViewDelta:${mb.id}:${queryOf(req).startDateTime ?? queryOf(req).startdatetime}`, entries, [], 'Collection(event)');
  });

  // To Do: one list per task folder.
  const T = PERMISSIONS.tasks;
  const listJson = (f: SandboxFolder) => ({ '@odata.etag': etag(f.id.slice(0, 24)), displayName: f.displayName, isOwner: true, isShared: false, wellknownListName: f.wellKnownName === 'tasks' ? 'defaultList' : 'none', id: f.id });
  userRoute(app, ctx, '/todo/lists', T, (req, reply, u, mb) =>
    sendPage(ctx, req, reply, `todoLists:${mb.id}`, foldersOfType(mb, 'IPF.Task').map(listJson), `users('${u.id}')/todo/lists`));
  userRoute(app, ctx, '/todo/lists/:lid', T, (req, _reply, u, mb) =>
    ({ '@odata.context': contextUrl(ctx, req, `users('${u.id}')/todo/lists/$entity`), ...listJson(mailFolderOf(ctx, mb, param(req, 'lid'), 'IPF.Task')) }));
  userRoute(app, ctx, '/todo/lists/:lid/tasks', T, (req, reply, u, mb) => {
    const f = mailFolderOf(ctx, mb, param(req, 'lid'), 'IPF.Task');
    return sendPage(ctx, req, reply, `tasks:${f.id}`, f.items.map(todoTaskJson), `users('${u.id}')/todo/lists('${f.id}')/tasks`);
  });
  userRoute(app, ctx, '/todo/lists/:lid/tasks/delta', T, (req, reply, _u, mb) => {
    const f = mailFolderOf(ctx, mb, param(req, 'lid'), 'IPF.Task');
    return sendDelta(ctx, req, reply, `taskDelta:${f.id}`, f.items.map((it) => ({ id: it.id, modSeq: it.modSeq, json: () => todoTaskJson(it) })), f.removed, 'Collection(todoTask)');
  });
  userRoute(app, ctx, '/todo/lists/:lid/tasks/:tid', T, (req, _reply, u, mb) => {
    const f = mailFolderOf(ctx, mb, param(req, 'lid'), 'IPF.Task');
    return { '@odata.context': contextUrl(ctx, req, `users('${u.id}')/todo/lists('${f.id}')/tasks/$entity`), ...todoTaskJson(itemIn([f], param(req, 'tid'))) };
  });
}
