import { createRoot } from "react-dom/client";
import "./styles/app.css";

function App() {
  return <main>Agentplane</main>;
}

createRoot(document.getElementById("root")!).render(<App />);
