/** "Who can see this child", with an "as of" date: shown on each student page. */
export function WhoCanSee({ studentId }: { studentId: string }) {
  return (
    <section className="panel" aria-labelledby={`who-${studentId}`}>
      <h2 id={`who-${studentId}`}>Who can see this child</h2>
      <p className="muted">Not built yet.</p>
    </section>
  );
}
