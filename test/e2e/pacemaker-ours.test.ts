import t from 'tap';
import { pacemakerSuite } from '../rig/pacemaker-suite.ts';

// Issue 16: our agents (ocf:hara) under Pacemaker 2.1 + Corosync 3 on three
// nodes, the group configured from `ha-agent crm-config` on the tutorial's
// haresources line, real fencing (fence_hara through the host side). Start,
// monitor failures, moves, a crash and a partition of the holder, rejoins.
pacemakerSuite(t, 'ours');
