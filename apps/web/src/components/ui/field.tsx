import { forwardRef, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";
import { cx } from "@/lib/cx";

const control =
  "h-8 rounded-md border border-border bg-panel px-2.5 text-[13px] text-fg placeholder:text-faint focus-visible:border-accent disabled:opacity-50";

export const Input = forwardRef<HTMLInputElement, InputHTMLAttributes<HTMLInputElement>>(function Input({ className, ...rest }, ref) {
  return <input ref={ref} className={cx(control, className)} {...rest} />;
});

export function Textarea({ className, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={cx(control, "h-auto min-h-16 py-1.5", className)} {...rest} />;
}

export function Select({ className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select className={cx(control, "pr-7", className)} {...rest}>
      {children}
    </select>
  );
}

/** A labelled form row; `hint` explains, `error` says what is wrong with the value. */
export function Field({ label, hint, error, children, htmlFor }: { label: string; hint?: ReactNode; error?: string | null; children: ReactNode; htmlFor?: string }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={htmlFor} className="text-[12.5px] font-medium text-fg">
        {label}
      </label>
      {children}
      {error ? <p className="text-[12px] text-crit">{error}</p> : hint ? <p className="text-[12px] text-muted">{hint}</p> : null}
    </div>
  );
}

export function Checkbox({ label, hint, ...rest }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode }) {
  return (
    <label className="flex items-start gap-2 text-[13px]">
      <input type="checkbox" className="mt-0.5 size-4 accent-[var(--accent)]" {...rest} />
      <span>
        <span className="font-medium">{label}</span>
        {hint && <span className="block text-[12px] text-muted">{hint}</span>}
      </span>
    </label>
  );
}

/** The table/page search box; the value lives in the URL (see useUrlParam). */
export function SearchInput({ value, onChange, placeholder, label = "Search" }: { value: string; onChange: (v: string) => void; placeholder: string; label?: string }) {
  return (
    <input
      type="search"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      placeholder={placeholder}
      // A short accessible name: the placeholder lists fields ("name, email") that would
      // collide with form labels of the same words.
      aria-label={label}
      className={cx(control, "w-full sm:w-64")}
    />
  );
}
