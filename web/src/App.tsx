import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { InspectorPage } from './access/InspectorPage.tsx';
import { AccessLogPage, AuditLogPage } from './access/LogPages.tsx';
import { AcceptInvitationPage } from './accounts/AcceptInvitationPage.tsx';
import { ChangePasswordPage } from './accounts/ChangePasswordPage.tsx';
import { ForgotPasswordPage } from './accounts/ForgotPasswordPage.tsx';
import { ResetPasswordPage } from './accounts/ResetPasswordPage.tsx';
import { BlocksPage } from './admin/BlocksPage.tsx';
import { CategoriesPage, CategoryPage } from './admin/CategoriesPage.tsx';
import { EmailsPage } from './admin/EmailsPage.tsx';
import { ImportStudentsPage } from './admin/ImportStudentsPage.tsx';
import { SchoolsPage } from './admin/SchoolsPage.tsx';
import { StudentGroupPage, StudentGroupsPage } from './admin/StudentGroupPages.tsx';
import { SignInSettingsPage } from './admin/sign-in/SignInSettingsPage.tsx';
import { UserGroupPage, UserGroupsPage } from './admin/UserGroupPages.tsx';
import { UserPage, UsersPage } from './admin/UserPages.tsx';
import { Layout } from './components/Layout.tsx';
import { ErrorMessage, Loading } from './components/ui.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { MemberOnlyPage } from './pages/MemberOnlyPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { SetupPage } from './pages/SetupPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { TwoFactorPage } from './pages/TwoFactorPage.tsx';
import { RetentionPage } from './retention/RetentionPage.tsx';
import { useSession } from './session.tsx';
import { TransfersPage } from './transfers/TransfersPage.tsx';
import { IncidentPage } from './work/IncidentPage.tsx';
import { IncidentsPage } from './work/IncidentsPage.tsx';
import { LogConcernPage } from './work/LogConcernPage.tsx';
import { MyReportsPage } from './work/MyReportsPage.tsx';
import { StudentPage } from './work/StudentPage.tsx';
import { StudentsPage } from './work/StudentsPage.tsx';

/**
 * The compliance pages (the Access Audit Report, access reviews) are used a few times a term by
 * Admins: they load on first visit, keeping everyone's first page small.
 */
const compliance = () => import('./compliance.ts');
const AccessAuditRunsPage = lazy(() =>
  compliance().then((m) => ({ default: m.AccessAuditRunsPage })),
);
const AccessAuditRunPage = lazy(() =>
  compliance().then((m) => ({ default: m.AccessAuditRunPage })),
);
const AccessReviewsPage = lazy(() => compliance().then((m) => ({ default: m.AccessReviewsPage })));
const AccessReviewPage = lazy(() => compliance().then((m) => ({ default: m.AccessReviewPage })));
const AccessReviewItemPage = lazy(() =>
  compliance().then((m) => ({ default: m.AccessReviewItemPage })),
);

function Later({ children }: { children: React.ReactNode }) {
  return <Suspense fallback={<Loading label="Opening the page…" />}>{children}</Suspense>;
}

/**
 * The pages emailed links open (`/accept-invitation?token=…`, `/reset-password?token=…`), whoever
 * is signed in: they work without a session, and say so to someone signed in as another account.
 */
const linkPages = (
  <>
    <Route path="accept-invitation" element={<AcceptInvitationPage />} />
    <Route path="reset-password" element={<ResetPasswordPage />} />
  </>
);

export function App() {
  const { state, refresh } = useSession();
  switch (state.status) {
    case 'loading':
      return (
        <main className="centred">
          <Loading label="Opening Haven…" />
        </main>
      );
    case 'unreachable':
      return (
        <main className="centred">
          <h1>Haven cannot be reached</h1>
          <ErrorMessage error={new Error(state.message)} retry={() => void refresh()} />
        </main>
      );
    case 'setup':
      return <SetupPage />;
    case 'signed_out':
      return (
        <Routes>
          {linkPages}
          <Route path="forgot-password" element={<ForgotPasswordPage />} />
          <Route path="*" element={<SignInPage reason={state.reason} />} />
        </Routes>
      );
    case 'member_only':
      return <MemberOnlyPage email={state.email} />;
    case 'signed_in':
      // Until two-factor sign-in is enrolled, the enrolment page is the only one there is.
      if (state.me.mfaEnrolmentRequired)
        return (
          <Routes>
            {linkPages}
            <Route element={<Layout restricted />}>
              <Route path="account/two-factor" element={<TwoFactorPage required />} />
              <Route path="*" element={<Navigate to="/account/two-factor" replace />} />
            </Route>
          </Routes>
        );
      return (
        <Routes>
          {linkPages}
          <Route path="sign-in" element={<Navigate to="/" replace />} />
          <Route path="forgot-password" element={<Navigate to="/account/password" replace />} />
          <Route element={<Layout />}>
            <Route index element={<HomePage />} />
            <Route path="students" element={<StudentsPage />} />
            <Route path="students/:id" element={<StudentPage />} />
            <Route path="concerns/new" element={<LogConcernPage />} />
            <Route path="incidents" element={<IncidentsPage />} />
            <Route path="incidents/:id" element={<IncidentPage />} />
            <Route path="reports/mine" element={<MyReportsPage />} />
            <Route path="retention" element={<RetentionPage />} />
            <Route path="transfers" element={<TransfersPage />} />
            <Route
              path="reports/access-audit"
              element={
                <Later>
                  <AccessAuditRunsPage />
                </Later>
              }
            />
            <Route
              path="reports/access-audit/:id"
              element={
                <Later>
                  <AccessAuditRunPage />
                </Later>
              }
            />
            <Route
              path="access-reviews"
              element={
                <Later>
                  <AccessReviewsPage />
                </Later>
              }
            />
            <Route
              path="access-reviews/:id"
              element={
                <Later>
                  <AccessReviewPage />
                </Later>
              }
            />
            <Route
              path="access-reviews/:id/items/:itemId"
              element={
                <Later>
                  <AccessReviewItemPage />
                </Later>
              }
            />
            <Route path="account/two-factor" element={<TwoFactorPage />} />
            <Route path="account/password" element={<ChangePasswordPage />} />
            <Route path="admin/users" element={<UsersPage />} />
            <Route path="admin/users/:id" element={<UserPage />} />
            <Route path="admin/user-groups" element={<UserGroupsPage />} />
            <Route path="admin/user-groups/:id" element={<UserGroupPage />} />
            <Route path="admin/student-groups" element={<StudentGroupsPage />} />
            <Route path="admin/student-groups/:id" element={<StudentGroupPage />} />
            <Route path="admin/import-students" element={<ImportStudentsPage />} />
            <Route path="admin/blocks" element={<BlocksPage />} />
            <Route path="admin/categories" element={<CategoriesPage />} />
            <Route path="admin/categories/:id" element={<CategoryPage />} />
            <Route path="admin/schools" element={<SchoolsPage />} />
            <Route path="admin/emails" element={<EmailsPage />} />
            <Route path="admin/sign-in" element={<SignInSettingsPage />} />
            <Route path="access/inspector" element={<InspectorPage />} />
            <Route path="access/audit-log" element={<AuditLogPage />} />
            <Route path="access/access-log" element={<AccessLogPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      );
  }
}
