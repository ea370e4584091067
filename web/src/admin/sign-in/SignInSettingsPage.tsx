import { PageHeader } from '../../components/ui.tsx';
import '../../accounts/accounts.css';
import { ScimSection } from './ScimSection.tsx';
import { SsoSection } from './SsoSection.tsx';

/**
 * `/admin/sign-in` (Owner): how the organisation's staff sign in (identity providers and the
 * organisation's switches) and how a directory provisions their accounts (SCIM tokens).
 */
export function SignInSettingsPage() {
  return (
    <>
      <PageHeader
        title="Sign-in and provisioning"
        description="How staff sign in to Haven, and how your directory (Microsoft Entra ID, Google Workspace) keeps their accounts up to date."
      />
      <SsoSection />
      <ScimSection />
    </>
  );
}
