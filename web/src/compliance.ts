/** The compliance pages, in a chunk of their own (loaded by `App.tsx` on first visit). */
export { AccessAuditRunPage, AccessAuditRunsPage } from './reports/AccessAuditPages.tsx';
export {
  AccessReviewItemPage,
  AccessReviewPage,
  AccessReviewsPage,
} from './reviews/AccessReviewPages.tsx';
