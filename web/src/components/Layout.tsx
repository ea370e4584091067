import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useCan, useMe, useSession } from '../session.tsx';

interface NavItem {
  to: string;
  label: string;
  /** Shown only to callers holding this permission somewhere. */
  permission?: string;
}

const sections: { label: string; items: NavItem[] }[] = [
  {
    label: 'Work',
    items: [
      { to: '/', label: 'Home' },
      { to: '/concerns/new', label: 'Log a concern', permission: 'incidents.create' },
      { to: '/students', label: 'Students', permission: 'students.view' },
      { to: '/incidents', label: 'Concerns', permission: 'incidents.view' },
      { to: '/reports/mine', label: 'My reports', permission: 'incidents.create' },
      { to: '/retention', label: 'Retention', permission: 'records.retention' },
      { to: '/transfers', label: 'Transfers', permission: 'transfers.manage' },
    ],
  },
  {
    label: 'Administration',
    items: [
      { to: '/admin/users', label: 'Users', permission: 'users.manage' },
      // Owners, members and those a group's permission sets name see their groups, whatever
      // their role: everyone sees the list (it holds only the groups they may see).
      { to: '/admin/user-groups', label: 'User groups' },
      { to: '/admin/student-groups', label: 'Student groups', permission: 'student_groups.manage' },
      { to: '/admin/import-students', label: 'Import students', permission: 'students.create' },
      { to: '/admin/blocks', label: 'Blocks', permission: 'blocks.manage' },
      { to: '/admin/categories', label: 'Categories', permission: 'categories.manage' },
      { to: '/admin/schools', label: 'Schools and settings', permission: 'settings.manage' },
      { to: '/admin/emails', label: 'Emails', permission: 'settings.manage' },
      {
        to: '/admin/sign-in',
        label: 'Sign-in and provisioning',
        permission: 'organisation.update',
      },
    ],
  },
  {
    label: 'Access',
    items: [
      { to: '/access/inspector', label: 'Access inspector', permission: 'reports.access_audit' },
      { to: '/reports/access-audit', label: 'Reports', permission: 'reports.access_audit' },
      // Group owners review their groups too, whatever their role: everyone sees the list.
      { to: '/access-reviews', label: 'Access reviews' },
      { to: '/access/audit-log', label: 'Audit log', permission: 'audit_log.view' },
      { to: '/access/access-log', label: 'Access log', permission: 'audit_log.view' },
    ],
  },
];

/**
 * The frame of every signed-in page. `restricted`: a school asks this user to enrol two-factor
 * sign-in first, so nothing but that page and signing out is offered (the server refuses the rest).
 */
export function Layout({ restricted = false }: { restricted?: boolean }) {
  const me = useMe();
  const can = useCan();
  const { signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const [lastPath, setLastPath] = useState(location.pathname);
  if (lastPath !== location.pathname) {
    setLastPath(location.pathname);
    setMenuOpen(false);
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label={`Haven home, ${me.organisation.name}`}>
          <svg aria-hidden="true" className="brand-mark" viewBox="0 0 32 32">
            <rect width="32" height="32" rx="6" fill="#fff" />
            <path d="M8 17 16 9l8 8v7h-5v-5h-6v5H8z" fill="#1d4e89" />
          </svg>
          Haven
        </NavLink>
        <span className="org muted">{me.organisation.name}</span>
        <button
          type="button"
          className="menu-button secondary"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <div className="account">
          <NavLink to="/account/two-factor">{me.name}</NavLink>
          <button type="button" className="link-button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="frame">
        <nav id="main-nav" aria-label="Main" className={menuOpen ? 'open' : undefined}>
          {(restricted ? [] : sections).map((section) => {
            const items = section.items.filter((i) => !i.permission || can(i.permission));
            if (items.length === 0) return null;
            return (
              <div key={section.label} className="nav-section">
                <h2>{section.label}</h2>
                <ul>
                  {items.map((item) => (
                    <li key={item.to}>
                      <NavLink to={item.to} end={item.to === '/'}>
                        {item.label}
                      </NavLink>
                    </li>
                  ))}
                </ul>
              </div>
            );
          })}
          <div className="nav-section nav-account">
            <h2>Account</h2>
            <ul>
              {restricted ? null : (
                <li>
                  <NavLink to="/account/password">Change password</NavLink>
                </li>
              )}
              <li>
                <NavLink to="/account/two-factor">Two-factor sign-in</NavLink>
              </li>
              <li>
                <button type="button" className="link-button" onClick={() => void signOut()}>
                  Sign out
                </button>
              </li>
            </ul>
          </div>
        </nav>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
