//! The transaction a write logs, built from what it did to the namespace.
//!
//! Owns: [`TxnBuilder`], which maps a request (and the tree right after it ran, under
//! the same lock) to the txn ZooKeeper 3.8 would log for it: `create`/`create2`/
//! `createContainer`/`createTTL` with the node's final path, data, ACL, ephemeral flag and the
//! parent's new cversion; `delete`; `setData` and `setACL` with the new versions;
//! `multi` with one item per op (all `error` items when it failed); `error` for a failed
//! single write; `closeSession` with the ephemerals it deleted.
//!
//! Invariants: replaying the built txn on the tree as it was before the write gives the
//! tree as it is after it (`image::Replay`).
//!
//! Must never: change the namespace, or be called without the namespace lock held since
//! the write it describes.

use crate::namespace::{create_mode, Namespace, NodeKind};
use crate::persist::{
    CheckVersionTxn, CreateContainerTxn, CreateTtlTxn, CreateTxn, SetAclTxn, SetDataTxn, SubTxn,
    Txn,
};
use crate::wire::{Acl, CreateRequest, ErrorCode, MultiOp, MultiResult, OpCode};
use std::collections::HashMap;

/// Builds txns from the namespace after a write.
pub(crate) struct TxnBuilder;

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "/",
    }
}

fn dedup(acl: &[Acl]) -> Vec<Acl> {
    let mut out: Vec<Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

impl TxnBuilder {
    /// A failed single write.
    pub(crate) fn error(code: ErrorCode) -> Txn {
        Txn::Error { err: code.code() }
    }

    /// A successful create of `op` (create, create2 or createContainer) that made `path`.
    pub(crate) fn create(ns: &Namespace, op: OpCode, path: &str) -> Txn {
        let Some(n) = ns.stored(path) else {
            return Txn::Error {
                err: ErrorCode::SystemError.code(),
            };
        };
        let parent_cversion = ns
            .stored(parent_of(path))
            .map(|p| p.stat.cversion)
            .unwrap_or(-1);
        let owner = n.stat.ephemeral_owner;
        let data = n.data.map(<[u8]>::to_vec);
        let acl = n.acl.to_vec();
        if owner == i64::MIN {
            return Txn::CreateContainer(CreateContainerTxn {
                path: path.to_owned(),
                data,
                acl,
                parent_cversion,
            });
        }
        if let NodeKind::Ttl(ttl) = NodeKind::of_owner(owner) {
            return Txn::CreateTtl(CreateTtlTxn {
                path: path.to_owned(),
                data,
                acl,
                parent_cversion,
                ttl,
            });
        }
        let t = CreateTxn {
            path: path.to_owned(),
            data,
            acl,
            ephemeral: owner != 0,
            parent_cversion,
        };
        if op == OpCode::Create2 {
            Txn::Create2(t)
        } else {
            Txn::Create(t)
        }
    }

    /// A successful setData of `path`.
    pub(crate) fn set_data(ns: &Namespace, path: &str) -> Txn {
        match ns.stored(path) {
            Some(n) => Txn::SetData(SetDataTxn {
                path: path.to_owned(),
                data: n.data.map(<[u8]>::to_vec),
                version: n.stat.version,
            }),
            None => Self::error(ErrorCode::SystemError),
        }
    }

    /// A successful setACL of `path`.
    pub(crate) fn set_acl(ns: &Namespace, path: &str) -> Txn {
        match ns.stored(path) {
            Some(n) => Txn::SetAcl(SetAclTxn {
                path: path.to_owned(),
                acl: n.acl.to_vec(),
                version: n.stat.aversion,
            }),
            None => Self::error(ErrorCode::SystemError),
        }
    }

    /// A session closed or expired, deleting `paths`.
    pub(crate) fn close_session(paths: Vec<String>) -> Txn {
        Txn::CloseSession {
            paths_to_delete: Some(paths),
        }
    }

    /// A multi of `ops` that gave `results` (`ops` as sent, before the namespace took
    /// them).
    pub(crate) fn multi(ns: &Namespace, ops: &[MultiOp], results: &[MultiResult]) -> Txn {
        if results.iter().any(|r| matches!(r, MultiResult::Error(_))) {
            return Txn::Multi(
                results
                    .iter()
                    .map(|r| SubTxn::Error {
                        err: match r {
                            MultiResult::Error(e) => *e,
                            _ => 0,
                        },
                    })
                    .collect(),
            );
        }
        let mut subs = Vec::with_capacity(ops.len());
        // Creates per parent, to give each its parent's cversion at that point.
        let mut creates: Vec<(usize, String)> = Vec::new();
        for (op, r) in ops.iter().zip(results) {
            let sub = match (op, r) {
                (
                    MultiOp::Create(c) | MultiOp::Create2(c),
                    MultiResult::Create(path) | MultiResult::Create2 { path, .. },
                ) => {
                    creates.push((subs.len(), parent_of(path).to_owned()));
                    SubTxn::Create(sub_create(c, path))
                }
                (MultiOp::CreateContainer(c), MultiResult::Create2 { path, .. })
                | (MultiOp::CreateContainer(c), MultiResult::Create(path)) => {
                    creates.push((subs.len(), parent_of(path).to_owned()));
                    SubTxn::CreateContainer(CreateContainerTxn {
                        path: path.clone(),
                        data: c.data.clone(),
                        acl: dedup(&c.acl),
                        parent_cversion: -1,
                    })
                }
                (MultiOp::CreateTtl(c), MultiResult::Create2 { path, .. }) => {
                    creates.push((subs.len(), parent_of(path).to_owned()));
                    match ns
                        .stored(path)
                        .map(|n| NodeKind::of_owner(n.stat.ephemeral_owner))
                    {
                        Some(NodeKind::Ttl(ttl)) => SubTxn::CreateTtl(CreateTtlTxn {
                            path: path.clone(),
                            data: c.data.clone(),
                            acl: dedup(&c.acl),
                            parent_cversion: -1,
                            ttl,
                        }),
                        _ => SubTxn::Create(CreateTxn {
                            path: path.clone(),
                            data: c.data.clone(),
                            acl: dedup(&c.acl),
                            ephemeral: create_mode(OpCode::CreateTtl, c.flags)
                                .is_ok_and(|m| m.is_ephemeral()),
                            parent_cversion: -1,
                        }),
                    }
                }
                (MultiOp::Delete(d), _) => SubTxn::Delete {
                    path: d.path.clone(),
                },
                (MultiOp::SetData(s), MultiResult::SetData(stat)) => SubTxn::SetData(SetDataTxn {
                    path: s.path.clone(),
                    data: s.data.clone(),
                    version: stat.version,
                }),
                (MultiOp::Check(c), _) => SubTxn::Check(CheckVersionTxn {
                    path: c.path.clone(),
                    version: c.version,
                }),
                _ => SubTxn::Error {
                    err: ErrorCode::SystemError.code(),
                },
            };
            subs.push(sub);
        }
        // Walk back from each parent's final cversion: the last create under it set it.
        let mut next: HashMap<String, i32> = HashMap::new();
        for (i, parent) in creates.iter().rev() {
            let cv = match next.get(parent) {
                Some(cv) => *cv,
                None => match ns.stored(parent) {
                    Some(p) => p.stat.cversion,
                    None => -1,
                },
            };
            next.insert(parent.clone(), if cv == -1 { -1 } else { cv - 1 });
            match &mut subs[*i] {
                SubTxn::Create(t) => t.parent_cversion = cv,
                SubTxn::CreateContainer(t) => t.parent_cversion = cv,
                SubTxn::CreateTtl(t) => t.parent_cversion = cv,
                _ => {}
            }
        }
        Txn::Multi(subs)
    }
}

fn sub_create(c: &CreateRequest, path: &str) -> CreateTxn {
    let ephemeral = create_mode(OpCode::Create, c.flags)
        .map(|m| m.is_ephemeral())
        .unwrap_or(false);
    CreateTxn {
        path: path.to_owned(),
        data: c.data.clone(),
        acl: dedup(&c.acl),
        ephemeral,
        parent_cversion: -1,
    }
}
