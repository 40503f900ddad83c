/**
 * NBT relationship checks (MS-PST 2.2.2.7.7.4, 2.4): every folder, search folder and message has an
 * existing nidParent (the root folder 0x122 is its own parent), messages live in normal folders,
 * folder parent chains end at the root without cycles, every normal folder has its hierarchy,
 * contents and FAI contents tables (same nidIndex, nidType 0x0D/0x0E/0x0F, 2.4.4) and (a search
 * folder's search contents table is optional: Outlook-made files lack it). Also HEADER rgnid[] (2.2.2.6): for each
 * nidType, rgnid must not be below the highest nidIndex in use (≥ 0x400); Outlook stores the last
 * index handed out (Empty.pst: rgnid[NORMAL_FOLDER] = 0x404 = the highest folder index), and
 * bidNextP above every B-tree page BID.
 */
import { NID, NidType, makeNid, nidIndex, nidType } from '../ndb/nid';
import type { CheckContext } from './context';
import { hex } from './types';

/** Deepest folder chain followed (a crafted parent chain must not loop forever). */
const MAX_FOLDER_DEPTH = 256;

/** Runs the NBT relationship checks. */
export function checkNodes(ctx: CheckContext): void {
  const { nodes, sink, header } = ctx;
  nodes.ensureSorted();
  const maxIndex = new Array<number>(32).fill(0);
  for (let i = 0; i < nodes.length; i++) {
    sink.tick();
    const nid = nodes.nid[i], parent = nodes.parent[i];
    const t = nidType(nid);
    const idx = nidIndex(nid);
    if (idx > maxIndex[t]) maxIndex[t] = idx;
    const where = { nid };
    if (t === NidType.NORMAL_FOLDER || t === NidType.SEARCH_FOLDER) {
      ctx.stats.folders++;
      if (nid === NID.ROOT_FOLDER) {
        if (parent !== nid) sink.add('NbtParentMissing', `root folder ${hex(nid)} has nidParent ${hex(parent)}; the root is its own parent (MS-PST 2.4.4)`, where);
      } else {
        const p = nodes.find(parent);
        if (p < 0) sink.add('NbtParentMissing', `folder ${hex(nid)}: nidParent ${hex(parent)} is not in the NBT (MS-PST 2.2.2.7.7.4)`, where);
        else if (nidType(parent) !== NidType.NORMAL_FOLDER) sink.add('NbtParentMissing', `folder ${hex(nid)}: nidParent ${hex(parent)} is not a normal folder (MS-PST 2.4.4)`, where);
        else {
          // Walk up to the root; a loop or a chain that never reaches 0x122 is a broken hierarchy.
          let cur = parent, steps = 0;
          while (cur !== NID.ROOT_FOLDER && steps++ < MAX_FOLDER_DEPTH) {
            const j = nodes.find(cur);
            if (j < 0) break;
            const up = nodes.parent[j];
            if (up === cur) break;
            cur = up;
          }
          if (cur !== NID.ROOT_FOLDER) sink.add('FolderCycle', `folder ${hex(nid)}: its parent chain does not reach the root folder 0x122 within ${MAX_FOLDER_DEPTH} steps (stopped at ${hex(cur)}) (MS-PST 2.4.4)`, where);
        }
      }
      // A search folder's search contents table (0x10) is not required: aspose_SampleContacts.pst has
      // search folder 0x2223 without 0x2230.
      const tables = t === NidType.NORMAL_FOLDER ? [NidType.HIERARCHY_TABLE, NidType.CONTENTS_TABLE, NidType.ASSOC_CONTENTS_TABLE] : [];
      for (const tt of tables) {
        const tn = makeNid(tt, idx);
        if (nodes.find(tn) < 0) sink.add('FolderTableMissing', `${t === NidType.NORMAL_FOLDER ? 'folder' : 'search folder'} ${hex(nid)}: its table ${hex(tn)} (nidType ${hex(tt)}) is not in the NBT (MS-PST 2.4.4${t === NidType.SEARCH_FOLDER ? ', 2.4.8.6' : ''})`, where);
      }
    } else if (t === NidType.NORMAL_MESSAGE || t === NidType.ASSOC_MESSAGE) {
      ctx.stats.messages++;
      const p = nodes.find(parent);
      if (p < 0) sink.add('NbtParentMissing', `message ${hex(nid)}: nidParent ${hex(parent)} is not in the NBT (MS-PST 2.2.2.7.7.4)`, where);
      else if (nidType(parent) !== NidType.NORMAL_FOLDER) sink.add('MessageParentNotFolder', `message ${hex(nid)}: nidParent ${hex(parent)} is not a normal folder (nidType ${hex(nidType(parent))}) (MS-PST 2.4.5)`, where);
    }
  }
  for (let t = 0; t < 32; t++) {
    if (maxIndex[t] >= 0x400 && header.rgnid[t] < maxIndex[t]) {
      sink.add('NidNext', `HEADER rgnid[${hex(t)}] is ${hex(header.rgnid[t])}, below the highest nidIndex in use ${hex(maxIndex[t])} for that nidType (MS-PST 2.2.2.6)`, { offset: 0 });
    }
  }
  if (ctx.maxPageBid > 0 && Number(header.bidNextP) <= ctx.maxPageBid) {
    sink.add('BidNextP', `HEADER bidNextP ${hex(header.bidNextP)} is not greater than the highest B-tree page BID ${hex(ctx.maxPageBid)} (MS-PST 2.2.2.6)`, { offset: 0 });
  }
}
