import t from 'tap';
import { pacemakerSuite } from '../rig/pacemaker-suite.ts';

// Issue 16, side by side: the same rig and scenarios as pacemaker-ours with
// Debian's stock OCF agents (ocf:heartbeat:IPaddr2, Filesystem, mysql) and
// our drbddisk (ocf:linbit:drbd needs DRBD's kernel module).
pacemakerSuite(t, 'stock');
