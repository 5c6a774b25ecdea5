import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-2 p-6 text-center">
      <h1 className="text-lg font-semibold">Page not found</h1>
      <p className="text-[13px] text-muted">There is nothing at this address.</p>
      <Link href="/" className="text-[13px] text-accent hover:underline">
        Back to the overview
      </Link>
    </main>
  );
}
