import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { startSession } from './session.ts';
import './styles.css';
import './pages.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
// Images and live previews need the session cookie first (with --listen); then the app renders.
void startSession().finally(() =>
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
