import { useEffect, useRef, useState } from "preact/hooks";

interface Props {
  /** The button's text: "Delete queue". */
  label: string;
  /** The question asked before doing it: "Delete queue orders and its 12 messages?" */
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}

/**
 * A destructive action in two steps, without a modal dialog: the button turns into the
 * question with "Yes" (focused, so Enter confirms) and "Cancel" (Escape cancels too).
 */
export function ConfirmButton({ label, question, onConfirm, disabled, danger = true }: Props) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) yes.current?.focus();
    else if (wasAsking.current) opener.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        ref={opener}
        class={danger ? "danger" : ""}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <span
      class="confirm"
      role="group"
      aria-label={question}
      onKeyDown={(e) => {
        if (e.key === "Escape") setAsking(false);
      }}
    >
      <span>{question}</span>
      <button
        type="button"
        ref={yes}
        class={danger ? "danger" : "primary"}
        onClick={() => {
          wasAsking.current = false;
          setAsking(false);
          onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
